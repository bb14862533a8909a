// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - instantiates the tracepoints declared in hvx_trace.h (the one
 * file that defines CREATE_TRACE_POINTS).
 */
#define CREATE_TRACE_POINTS
#include "hvx_trace.h"
