/* SPDX-License-Identifier: GPL-2.0 */
/* names.h - names of VM-exit reasons and userspace exits (names.c). */
#ifndef HVX_USERSPACE_NAMES_H
#define HVX_USERSPACE_NAMES_H

#include "hvx.h"

/* Basic VM-exit reasons (SDM Vol. 3D Appendix C); NULL where unnamed. */
extern const char *const hvx_exit_names[HVX_STATS_EXIT_REASONS];
/* HVX_EXIT_* reasons of struct hvx_run, indexed as hvx_stats.user_exits. */
extern const char *const hvx_user_exit_names[HVX_STATS_USER_EXITS];

#endif
