// SPDX-License-Identifier: GPL-2.0
/*
 * noexports.c - the whole module when the target kernel does not export
 * what hvx needs to modules named hvx (Linux 6.19 and later restrict the
 * CR4, VMX-enabling and mitigation helpers to KVM). Kbuild decides this
 * from the tree's Module.symvers and builds this file instead of hvx, so
 * that the build succeeds and loading fails with one line that names the
 * fix: the kernel patch series in kmod/patches/.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init hvx_noexports_init(void)
{
	pr_err("this kernel does not export %s to hvx; apply hvx's kmod/patches/ to the kernel and rebuild it (kmod/patches/README.md)\n",
	       HVX_MISSING_EXPORTS);
	return -EOPNOTSUPP;
}
module_init(hvx_noexports_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvx (not usable on this kernel: apply kmod/patches/)");
MODULE_AUTHOR("The hvx developers");
