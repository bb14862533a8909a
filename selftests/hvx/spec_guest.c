// SPDX-License-Identifier: GPL-2.0
/* spec_guest.c - 64-bit guest code of spec_test. */
#include "hvx_guest.h"
#include "spec_guest.h"

void guest_cpuids(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	for (int i = 0; i < SPEC_CPUIDS; i++)
		cpuid(0, 0, &a, &b, &c, &d);
	GUEST_DONE();
}

/*
 * A guest that plays with IA32_SPEC_CTRL: GUEST_SYNC(0) if CPUID offers
 * no IBRS (no MSR); else, for each value, write it, read it back, and
 * GUEST_SYNC(value) so that the host can look at its own MSR meanwhile.
 * The values drop IBRS after having set it, as an attacker would.
 */
#define SPEC_STEPS	6

static uint64_t step_value(unsigned int i)
{
	switch (i) {
	case 0: return SPEC_SSBD;
	case 2: return SPEC_IBRS | SPEC_SSBD;
	case 3: return SPEC_STIBP;
	case 5: return SPEC_SSBD;
	}
	return 0;
}

void guest_spec_ctrl(uint64_t unused)
{
	uint32_t a, b, c, d;
	uint64_t v, val;

	(void)unused;
	cpuid(7, 0, &a, &b, &c, &d);
	if (!(d & (1u << 26))) {
		GUEST_SYNC(~0ULL);
		GUEST_DONE();
	}
	for (unsigned int i = 0; i < SPEC_STEPS; i++) {
		val = step_value(i);
		/* The host masks what its CPU lacks: #GP is then fine. */
		if (guest_wrmsr_safe(MSR_SPEC_CTRL, val))
			continue;
		GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_SPEC_CTRL, &v));
		GUEST_ASSERT_EQ(val, v);
		GUEST_SYNC(val);
		/* Still the guest's value after a round trip to the host. */
		GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_SPEC_CTRL, &v));
		GUEST_ASSERT_EQ(val, v);
	}
	GUEST_DONE();
}

/* GUEST_SYNC(i) for i = 0, 1, 2, ...: one return to the host per run. */
void guest_sync_loop(uint64_t unused)
{
	(void)unused;
	for (uint64_t i = 0; ; i++)
		GUEST_SYNC(i);
}
