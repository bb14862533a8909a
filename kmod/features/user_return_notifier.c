// SPDX-License-Identifier: GPL-2.0
/*
 * User-return notifiers exist only in kernels built with
 * CONFIG_USER_RETURN_NOTIFIER (selected by KVM); without it the header
 * declares no user_return_notifier_register().
 */
#include <linux/user-return-notifier.h>

void hvx_feature_test(struct user_return_notifier *urn);
void hvx_feature_test(struct user_return_notifier *urn)
{
	user_return_notifier_register(urn);
	user_return_notifier_unregister(urn);
}
