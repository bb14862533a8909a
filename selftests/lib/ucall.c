// SPDX-License-Identifier: GPL-2.0
/*
 * ucall.c - host side of the guest->host calls (protocol in guest_layout.h).
 */
#include <stdio.h>

#include "hvx_util.h"

/* If the last exit is a ucall, decode it and return its command; else
 * UCALL_NONE. */
uint64_t get_ucall(struct vcpu *vcpu, struct ucall *uc)
{
	struct hvx_run *run = vcpu->run;
	struct hvx_regs regs;
	uint32_t cmd;

	memset(uc, 0, sizeof(*uc));
	if (run->exit_reason != HVX_EXIT_IO || run->io.port != UCALL_PORT ||
	    run->io.direction != HVX_EXIT_IO_OUT || run->io.size != 4 ||
	    run->io.count != 1)
		return UCALL_NONE;

	memcpy(&cmd, vcpu_io_data(vcpu), 4);
	vcpu_get_regs(vcpu, &regs);
	uc->cmd = cmd;
	uc->args[0] = regs.rdi;
	uc->args[1] = regs.rsi;
	uc->args[2] = regs.rdx;
	uc->args[3] = regs.rcx;
	return uc->cmd;
}

/* A NUL-terminated string in guest memory, or a placeholder. */
static const char *guest_str(struct vm *vm, uint64_t gva)
{
	for (uint64_t len = 0; len < 256; len++) {
		const char *p;

		if (!vm->ram || gva + len < GPA_HOLE_END ||
		    gva + len >= vm->ram_size)
			break;
		p = (const char *)vm->ram + gva + len;
		if (!*p)
			return (const char *)vm->ram + gva;
	}
	return "(bad string)";
}

/* Human-readable form of a ucall, for messages. */
const char *ucall_str(struct vcpu *vcpu, const struct ucall *uc)
{
	static __thread char buf[512];
	struct vm *vm = vcpu->vm;

	switch (uc->cmd) {
	case UCALL_SYNC:
		snprintf(buf, sizeof(buf),
			 "ucall SYNC(0x%llx, 0x%llx, 0x%llx, 0x%llx)",
			 (unsigned long long)uc->args[0],
			 (unsigned long long)uc->args[1],
			 (unsigned long long)uc->args[2],
			 (unsigned long long)uc->args[3]);
		break;
	case UCALL_DONE:
		snprintf(buf, sizeof(buf), "ucall DONE");
		break;
	case UCALL_UNHANDLED:
		snprintf(buf, sizeof(buf),
			 "guest exception: vector %llu, error code 0x%llx, rip 0x%llx",
			 (unsigned long long)uc->args[0],
			 (unsigned long long)uc->args[1],
			 (unsigned long long)uc->args[2]);
		break;
	case UCALL_ASSERT: {
		const struct guest_assert_info *info;
		uint64_t gva = uc->args[0];

		if (!vm->ram || gva < GPA_HOLE_END ||
		    gva + sizeof(*info) > vm->ram_size) {
			snprintf(buf, sizeof(buf),
				 "guest assertion failed (bad info 0x%llx)",
				 (unsigned long long)gva);
			break;
		}
		info = (const void *)(vm->ram + gva);
		if (info->nvalues)
			snprintf(buf, sizeof(buf),
				 "guest assertion failed at %s:%d: %s (0x%llx vs 0x%llx)",
				 guest_str(vm, (uint64_t)info->file), info->line,
				 guest_str(vm, (uint64_t)info->expr),
				 (unsigned long long)uc->args[1],
				 (unsigned long long)uc->args[2]);
		else
			snprintf(buf, sizeof(buf),
				 "guest assertion failed at %s:%d: %s",
				 guest_str(vm, (uint64_t)info->file), info->line,
				 guest_str(vm, (uint64_t)info->expr));
		break;
	}
	default:
		snprintf(buf, sizeof(buf), "ucall with unknown command %llu",
			 (unsigned long long)uc->cmd);
	}
	return buf;
}

/* See vcpu_run_ucall() in hvx_util.h. */
uint64_t vcpu_run_ucall_at(struct vcpu *vcpu, struct ucall *uc,
			   const char *file, int line)
{
	vcpu_run_at(vcpu, file, line);
	switch (get_ucall(vcpu, uc)) {
	case UCALL_SYNC:
	case UCALL_DONE:
		return uc->cmd;
	case UCALL_NONE:
		lib_fail(file, line, "expected a ucall, got exit %s",
			 vcpu_exit_str(vcpu));
	default:
		lib_fail(file, line, "%s", ucall_str(vcpu, uc));
	}
}

uint64_t vcpu_run_sync_at(struct vcpu *vcpu, const char *file, int line)
{
	struct ucall uc;

	LIB_ASSERT_AT(file, line,
		      vcpu_run_ucall_at(vcpu, &uc, file, line) == UCALL_SYNC,
		      "expected GUEST_SYNC, got %s", ucall_str(vcpu, &uc));
	return uc.args[0];
}

void vcpu_run_done_at(struct vcpu *vcpu, const char *file, int line)
{
	struct ucall uc;

	LIB_ASSERT_AT(file, line,
		      vcpu_run_ucall_at(vcpu, &uc, file, line) == UCALL_DONE,
		      "expected GUEST_DONE, got %s", ucall_str(vcpu, &uc));
}
