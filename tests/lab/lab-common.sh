# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Shared by build-initramfs and run-vm (sourced, not run): the lab's cache of
# Debian packages, kept OUTSIDE the repository.  Nothing here is committed.
#
#   $KVMEXIT_LAB_CACHE (default /var/cache/kvmexit-lab)
#     debs/      the .deb files, fetched with `apt-get download`
#     kernel/    `dpkg -x` of the kernel that linux-image-amd64 depends on
#                (never installed on the host)
#     busybox/   `dpkg -x` of busybox-static (it conflicts with busybox)

LAB_CACHE=${KVMEXIT_LAB_CACHE:-/var/cache/kvmexit-lab}
# shellcheck disable=SC2034 # used by the scripts that source this file
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

lab_die()
{
	echo "${0##*/}: $*" >&2
	exit 1
}

lab_note()
{
	[ -n "${LAB_QUIET:-}" ] || echo "${0##*/}: $*" >&2
}

# The lab's two machines: QEMU/TCG's AMD EPYC (SVM, kvm_amd) and Bochs's
# Intel Haswell (VMX with EPT, kvm_intel).  lab_machine_modules MACHINE
# prints the kvm modules of MACHINE in insmod order.
lab_machine_modules()
{
	case $1 in
	amd) echo irqbypass kvm ccp kvm-amd ;;
	intel) echo irqbypass kvm kvm-intel ;;
	*) echo "${0##*/}: unknown machine '$1': use amd or intel" >&2; return 2 ;;
	esac
}

# The kernel package linux-image-amd64 depends on, e.g. linux-image-6.1.0-56-amd64.
lab_kernel_package()
{
	local pkg

	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	      awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] ||
		lab_die "cannot resolve linux-image-amd64's kernel package; run 'apt-get update' first"
	echo "$pkg"
}

# Download (once) and unpack (once) a Debian package into $LAB_CACHE/$2.
lab_fetch_deb()
{
	local pkg=$1 dir=$LAB_CACHE/$2 deb

	[ -e "$dir/.unpacked-$pkg" ] && return 0
	mkdir -p "$LAB_CACHE/debs" ||
		lab_die "cannot create $LAB_CACHE/debs; set KVMEXIT_LAB_CACHE to a writable directory"
	deb=$(find "$LAB_CACHE/debs" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
	if [ -z "$deb" ]; then
		lab_note "downloading $pkg"
		(cd "$LAB_CACHE/debs" && apt-get download "$pkg" >&2) ||
			lab_die "apt-get download $pkg failed; run 'apt-get update' and retry"
		deb=$(find "$LAB_CACHE/debs" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	dpkg -x "$deb" "$dir" || lab_die "dpkg -x $deb failed"
	touch "$dir/.unpacked-$pkg"
}

# Make sure the kernel and busybox are in the cache; sets LAB_VMLINUZ,
# LAB_MODDIR (…/lib/modules/VERSION) and LAB_BUSYBOX.
lab_cache_prepare()
{
	local kpkg kver

	if [ -n "${KVMEXIT_LAB_KERNEL_PKG:-}" ]; then
		kpkg=$KVMEXIT_LAB_KERNEL_PKG
	elif [ -f "$LAB_CACHE/kernel-package" ]; then
		kpkg=$(cat "$LAB_CACHE/kernel-package")
	else
		kpkg=$(lab_kernel_package)
	fi
	lab_fetch_deb "$kpkg" kernel
	echo "$kpkg" > "$LAB_CACHE/kernel-package"
	lab_fetch_deb busybox-static busybox
	kver=${kpkg#linux-image-}
	LAB_VMLINUZ=$LAB_CACHE/kernel/boot/vmlinuz-$kver
	LAB_MODDIR=$LAB_CACHE/kernel/lib/modules/$kver
	LAB_BUSYBOX=$LAB_CACHE/busybox/bin/busybox
	[ -f "$LAB_VMLINUZ" ] || lab_die "no $LAB_VMLINUZ in the kernel package"
	[ -d "$LAB_MODDIR" ] || lab_die "no $LAB_MODDIR in the kernel package"
	[ -x "$LAB_BUSYBOX" ] || lab_die "no busybox in busybox-static"
}
