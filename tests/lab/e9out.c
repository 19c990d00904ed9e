// SPDX-License-Identifier: GPL-2.0-only
/*
 * e9out: copy stdin to I/O port 0xe9, for the lab's Intel machine.
 *
 * Bochs (port_e9_hack) writes every byte sent to port 0xe9 to its stdout at
 * once, where a serial port is paced at 115200 baud in emulated time: the
 * lab's captures come out in seconds instead of minutes.  Built statically
 * by build-initramfs -M intel; /init pipes the payload's output through it.
 * Port 0xe9 of the nested guest is not this port: KVM intercepts that one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <unistd.h>

int main(void)
{
	unsigned char buf[4096];
	ssize_t n;

	if (ioperm(0xe9, 1, 1) < 0) {
		fprintf(stderr, "e9out: ioperm(0xe9): %s (run as root)\n", strerror(errno));
		return 1;
	}
	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "e9out: reading stdin: %s\n", strerror(errno));
			return 1;
		}
		outsb(0xe9, buf, (unsigned long)n);
	}
	return 0;
}
