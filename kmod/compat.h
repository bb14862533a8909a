/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the one place where hvx adapts to kernel API changes between
 * the versions it supports (6.1 to 6.12). Code elsewhere uses the hvx_*
 * names below and contains no version checks.
 */
#ifndef HVX_COMPAT_H
#define HVX_COMPAT_H

#include <linux/eventfd.h>
#include <linux/version.h>
#include <net/genetlink.h>

/**
 * hvx_genl_dump_attrs - the parsed, policy-checked attributes of the
 * request that started a generic netlink dump
 * @cb: the dump's netlink callback (in .start or .dumpit).
 *
 * 6.6 moved them from struct genl_dumpit_info into an embedded struct
 * genl_info (genl_info_dump()).
 * Return: attribute table indexed by type, NULL entries for absent ones.
 */
static inline struct nlattr **hvx_genl_dump_attrs(struct netlink_callback *cb)
{
#if KERNEL_VERSION(6, 6, 0) <= LINUX_VERSION_CODE
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/*
 * HVX_GENL_MCGRP_ADMIN - flags of a multicast group only CAP_SYS_ADMIN may
 * join. GENL_MCAST_CAP_SYS_ADMIN arrived in 6.7 and was backported to the
 * 6.1 stable series (Debian's 6.1 and 6.12 both have it); an older 6.1
 * only offers GENL_UNS_ADMIN_PERM, which asks for CAP_NET_ADMIN.
 */
#ifdef GENL_MCAST_CAP_SYS_ADMIN
#define HVX_GENL_MCGRP_ADMIN	GENL_MCAST_CAP_SYS_ADMIN
#else
#define HVX_GENL_MCGRP_ADMIN	GENL_UNS_ADMIN_PERM
#endif

/**
 * hvx_eventfd_signal - add 1 to an eventfd's counter and wake its readers
 * @ctx: the eventfd context.
 *
 * 6.8 dropped the count argument of eventfd_signal().
 */
static inline void hvx_eventfd_signal(struct eventfd_ctx *ctx)
{
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

#endif /* HVX_COMPAT_H */
