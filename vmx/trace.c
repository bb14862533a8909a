// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - instantiates the tracepoints declared in vmx_trace.h (the one
 * file of vmx/ that defines CREATE_TRACE_POINTS).
 */
#define CREATE_TRACE_POINTS
#include "vmx_trace.h"
