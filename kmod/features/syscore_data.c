// SPDX-License-Identifier: GPL-2.0
/*
 * The syscore API gained a context pointer: struct syscore with
 * register_syscore(), and callbacks that take void *data. Mainline has it
 * from 6.19; Debian's 6.12.118 carries it too, so a version check is wrong.
 */
#include <linux/syscore_ops.h>

static int hvx_feature_suspend(void *data)
{
	return 0;
}

static const struct syscore_ops hvx_feature_ops = {
	.suspend = hvx_feature_suspend,
};

void hvx_feature_test(struct syscore *sc);
void hvx_feature_test(struct syscore *sc)
{
	sc->ops = &hvx_feature_ops;
	register_syscore(sc);
}
