/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_test.h - kselftest harness glue for hvx test programs (host side).
 * Include once, from the test's main .c file.
 */
#ifndef HVX_SELFTEST_TEST_H
#define HVX_SELFTEST_TEST_H

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "hvx_util.h"

/*
 * The harness kills a test after TEST_TIMEOUT_DEFAULT (30 s) seconds; under
 * Bochs (~50M instructions per simulated second) VM setup alone takes a good
 * part of that, so allow more. TEST()/TEST_F() expand this macro where they
 * are used, so redefining it here takes effect for every test below.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

#define SKIP_NO_VMX_MSG "no VMX on this CPU (QEMU TCG): needs Bochs"

/* Skip unless /dev/hvx exists (the module is loaded). */
#define REQUIRE_HVX() do {						\
	if (access(HVX_DEV, R_OK | W_OK))				\
		SKIP(return, HVX_DEV " not available: %s (hvx.ko not loaded?)", \
		     strerror(errno));					\
} while (0)

/* Skip unless hvx can create VMs here; fail if it should but cannot. */
#define REQUIRE_VMX() do {						\
	int __err;							\
									\
	REQUIRE_HVX();							\
	__err = hvx_vmx_errno();					\
	if (__err == EOPNOTSUPP)					\
		SKIP(return, SKIP_NO_VMX_MSG);				\
	ASSERT_EQ(0, __err)						\
		TH_LOG("HVX_CREATE_VM fails with %s", strerrorname_np(__err)); \
} while (0)

/* errno of a call that failed with -1, or 0 if it returned anything else. */
#define ERRNO_OF(expr)	((long)(expr) == -1 ? errno : 0)

/* expr must fail with errno err; fmt/... add context to the message. */
#define ASSERT_ERRNO_MSG(err, expr, fmt, ...)				\
	__ASSERT_ERRNO(err, expr, #expr, fmt, ##__VA_ARGS__)
#define ASSERT_ERRNO(err, expr)	__ASSERT_ERRNO(err, expr, #expr, "")
#define __ASSERT_ERRNO(err, expr, expr_str, fmt, ...)			\
	for (int __e = ERRNO_OF(expr), __once = 1; __once; __once = 0) { \
		ASSERT_EQ(err, __e)					\
			TH_LOG("%s: %s, expected %s" fmt, expr_str,	\
			       __e ? strerrorname_np(__e) : "succeeded", \
			       strerrorname_np(err), ##__VA_ARGS__);	\
	}

/* The last exit of vcpu must have this HVX_EXIT_* reason. */
#define ASSERT_EXIT_MSG(reason, vcpu, fmt, ...)				\
	ASSERT_EQ(reason, (vcpu)->run->exit_reason)			\
		TH_LOG("expected exit %s, got %s" fmt,			\
		       exit_reason_str(reason), vcpu_exit_str(vcpu),	\
		       ##__VA_ARGS__)
#define ASSERT_EXIT(reason, vcpu)	ASSERT_EXIT_MSG(reason, vcpu, "")

#endif /* HVX_SELFTEST_TEST_H */
