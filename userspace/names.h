/* SPDX-License-Identifier: GPL-2.0 */
/* names.h - names of VM-exit reasons and userspace exits (names.c). */
#ifndef HVX_USERSPACE_NAMES_H
#define HVX_USERSPACE_NAMES_H

#include "hvx.h"

/* Basic VM-exit reasons (SDM Vol. 3D Appendix C); NULL where unnamed. */
extern const char *const hvx_exit_names[HVX_STATS_EXIT_REASONS];
/* Name of HVX_EXIT_* @reason (hvx_run, hvx_stats.user_exits), or NULL. */
const char *hvx_user_exit_name(unsigned int reason);

#endif
