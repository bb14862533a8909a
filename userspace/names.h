/* SPDX-License-Identifier: GPL-2.0 */
/* names.h - names of VM-exit reasons, userspace exits, hypercalls (names.c). */
#ifndef HVX_USERSPACE_NAMES_H
#define HVX_USERSPACE_NAMES_H

#include "hvx.h"

/* Basic VM-exit reasons (SDM Vol. 3D Appendix C); NULL where unnamed. */
extern const char *const hvx_exit_names[HVX_STATS_EXIT_REASONS];
/* Name of HVX_EXIT_* @reason (hvx_run, hvx_stats.user_exits), or NULL. */
const char *hvx_user_exit_name(unsigned int reason);
/* Name of hypercall @nr (HVX_HC_*, KVM's KVM_HC_*), or "HC_<nr>" in @buf. */
const char *hvx_hc_name(int nr, char *buf, size_t len);

#endif
