// SPDX-License-Identifier: GPL-2.0
/*
 * fpu_copy_guest_fpstate_to_uabi() takes an xfeatures mask before the
 * PKRU value (the caller narrows what is copied) since 6.8, and in stable
 * kernels that backported it (Debian's 6.1 has it).
 */
#include <asm/fpu/api.h>

void hvx_feature_test(struct fpu_guest *gfpu, void *buf);
void hvx_feature_test(struct fpu_guest *gfpu, void *buf)
{
	fpu_copy_guest_fpstate_to_uabi(gfpu, buf, 4096, ~0ULL, 0);
}
