// SPDX-License-Identifier: GPL-2.0
/*
 * mem_guest.c - guest side of mem_test: an operation loop driven by the
 * host through mem_args (in guest RAM; the host changes it between runs).
 */
#include "hvx_guest.h"
#include "mem_guest.h"

struct mem_args mem_args;

/* A page directory for MEM_OP_MAP_HIGH (guest page tables live in RAM). */
static uint64_t high_pd[512] __attribute__((aligned(4096)));

static void write_pattern(uint64_t gpa, uint64_t size, uint64_t seed)
{
	for (uint64_t a = gpa; a < gpa + size; a += 8)
		*(volatile uint64_t *)a = a ^ seed;
}

static void check_pattern(uint64_t gpa, uint64_t size, uint64_t seed)
{
	for (uint64_t a = gpa; a < gpa + size; a += 8)
		GUEST_ASSERT_EQ(a ^ seed, *(volatile uint64_t *)a);
}

static void map_high(uint64_t gpa)
{
	volatile uint64_t *pdpt = (volatile uint64_t *)GPA_PDPT;
	uint64_t cr3;

	high_pd[0] = (gpa & ~0x1fffffull) | 0x83;	/* P, RW, PS: 2 MiB */
	pdpt[MEM_HIGH_VA >> 30] = (uint64_t)high_pd | 0x3;
	asm volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
	GUEST_SYNC_ARGS(gpa, *(volatile uint64_t *)(MEM_HIGH_VA + (gpa & 0x1fffff)),
			0, 0);
}

void guest_mem(uint64_t unused)
{
	volatile struct mem_args *a = &mem_args;

	(void)unused;
	for (;;) {
		uint64_t op = a->op;

		switch (op) {
		case MEM_OP_DONE:
			GUEST_DONE();
			break;
		case MEM_OP_WRITE_PATTERN:
			write_pattern(a->gpa, a->size, a->seed);
			break;
		case MEM_OP_CHECK_PATTERN:
			check_pattern(a->gpa, a->size, a->seed);
			break;
		case MEM_OP_READ_LIST:
			for (uint64_t i = 0; i < a->n; i++)
				GUEST_SYNC_ARGS(a->addrs[i],
						*(volatile uint64_t *)a->addrs[i],
						i, 0);
			break;
		case MEM_OP_WRITE_LIST:
			for (uint64_t i = 0; i < a->n; i++)
				*(volatile uint64_t *)a->addrs[i] =
					a->addrs[i] ^ a->seed;
			break;
		case MEM_OP_TOUCH:
			for (uint64_t p = a->gpa; p < a->gpa + a->size; p += a->stride)
				(void)*(volatile uint64_t *)p;
			break;
		case MEM_OP_SPIN:
			while (*(volatile uint64_t *)a->gpa)
				a->spins++;
			break;
		case MEM_OP_MAP_HIGH:
			map_high(a->gpa);
			break;
		case MEM_OP_READ_ONE:
			GUEST_SYNC_ARGS(a->gpa, *(volatile uint64_t *)a->gpa, 0, 0);
			break;
		}
		GUEST_SYNC(op);
	}
}
