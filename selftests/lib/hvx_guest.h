/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_guest.h - the guest library: what guest code (GUEST_CODE functions,
 * x86.h) may use besides its own functions. Guest code must not call
 * anything else: libc's memcpy/memset are ifunc-resolved (possibly to AVX
 * code, and the guest's copy of the binary never had its IRELATIVE
 * relocations applied). hvx/Makefile rejects guest code that references
 * other symbols. The lib's own guest side (guest.c) is built with
 * GUEST_CFLAGS (the same restrictions for a whole file).
 */
#ifndef HVX_SELFTEST_GUEST_H
#define HVX_SELFTEST_GUEST_H

#include <stdint.h>

#include "guest_layout.h"
#include "x86.h"

GUEST_CODE static inline void ucall(uint64_t cmd, uint64_t a0, uint64_t a1,
				    uint64_t a2, uint64_t a3)
{
	asm volatile("outl %%eax, %[port]"
		     : : "a"(cmd), "D"(a0), "S"(a1), "d"(a2), "c"(a3),
		       [port] "i"(UCALL_PORT)
		     : "memory");
}

void __attribute__((noreturn))
guest_assert_failed(const struct guest_assert_info *info, uint64_t a,
		    uint64_t b);

#define GUEST_SYNC(v)		ucall(UCALL_SYNC, (uint64_t)(v), 0, 0, 0)
#define GUEST_SYNC_ARGS(a, b, c, d)					\
	ucall(UCALL_SYNC, (uint64_t)(a), (uint64_t)(b), (uint64_t)(c),	\
	      (uint64_t)(d))
#define GUEST_DONE()		ucall(UCALL_DONE, 0, 0, 0, 0)

#define GUEST_ASSERT(cond) do {						\
	if (!(cond)) {							\
		static const struct guest_assert_info __info = {	\
			__FILE__, #cond, __LINE__, 0 };			\
		guest_assert_failed(&__info, 0, 0);			\
	}								\
} while (0)

#define GUEST_ASSERT_EQ(expected, seen) do {				\
	uint64_t __e = (uint64_t)(expected), __s = (uint64_t)(seen);	\
	if (__e != __s) {						\
		static const struct guest_assert_info __info = {	\
			__FILE__, #expected " == " #seen, __LINE__, 2 }; \
		guest_assert_failed(&__info, __e, __s);			\
	}								\
} while (0)

/*
 * Exceptions in 64-bit guests go to the lib's IDT. Normally they end the
 * test (UCALL_UNHANDLED). To expect one, put the address to resume at in
 * guest_fixup_rip before the faulting instruction: the handler then clears
 * it, records the vector in guest_fixup_vector (the error code, 0 if none,
 * in guest_fixup_error and the RFLAGS image the CPU pushed in
 * guest_fixup_rflags) and resumes there.
 */
extern volatile uint64_t guest_fixup_rip;
extern volatile uint64_t guest_fixup_vector;
extern volatile uint64_t guest_fixup_error;
extern volatile uint64_t guest_fixup_rflags;

/* RDMSR/WRMSR that return the exception vector they raised, or 0. */
GUEST_CODE static inline uint64_t guest_rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "rdmsr\n"
		     "1:\tmovq $0, %[fix]"
		     : "+a"(lo), "+d"(hi), [fix] "=m"(guest_fixup_rip)
		     : "c"(msr) : "memory");
	*val = lo | (uint64_t)hi << 32;
	return guest_fixup_vector;
}

GUEST_CODE static inline uint64_t guest_wrmsr_safe(uint32_t msr, uint64_t val)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "wrmsr\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip)
		     : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	return guest_fixup_vector;
}

GUEST_CODE static inline uint64_t guest_read_cr0(void)
{
	uint64_t v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

GUEST_CODE static inline uint64_t guest_read_cr4(void)
{
	uint64_t v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* The guest's TSC (SDM Vol. 2B, RDTSC). */
GUEST_CODE static inline uint64_t guest_rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/*
 * AVX for a guest that keeps a pattern in its YMM registers: what each
 * does is in guest.c. The YMM helpers move all 16 registers, 32 bytes
 * each, to or from a GUEST_YMM_BYTES buffer (register r at r * 32).
 */
#define GUEST_YMM_BYTES	(16 * 32)
int guest_enable_avx(void);
void guest_ymm_load(const uint8_t *buf);
void guest_ymm_store(uint8_t *buf);

void guest_memset(void *dst, int c, uint64_t n);

/*
 * Drop to CPL 3 and run @fn there, on a stack of the lib's, with IOPL 3
 * (ucalls and port I/O still work) and interrupts off: adds a 64-bit code
 * and a data segment of DPL 3 after the lib's GDT entries, sets the user
 * bit in every paging entry of the identity map (clearing CR4.SMEP/SMAP,
 * since CPL 0 code then runs from user pages), reloads CR3 and sets RSP0
 * in the TSS for exceptions taken at CPL 3. Never returns.
 */
void __attribute__((noreturn)) guest_enter_user(void (*fn)(void));

#endif /* HVX_SELFTEST_GUEST_H */
