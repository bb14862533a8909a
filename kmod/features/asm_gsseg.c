// SPDX-License-Identifier: GPL-2.0
/*
 * load_gs_index() is declared in <asm/gsseg.h> from 6.3; before, in
 * <asm/special_insns.h>/<asm/paravirt.h>.
 */
#include <asm/gsseg.h>

void hvx_feature_test(void);
void hvx_feature_test(void)
{
	load_gs_index(0);
}
