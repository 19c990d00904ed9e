// SPDX-License-Identifier: GPL-2.0-only
#include <check.h>
int main(void) { return 0; }
