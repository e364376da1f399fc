/*
 * The seccomp filter of alpr-ocrd's recognizer workers.
 *
 * Runs in the worker process (worker.c), after the models are loaded and
 * before the first frame: from then on the process looks at hostile pixels
 * with OpenCV and Tesseract, so a bug there must find nothing to call but
 * what the job loop needs.  The allow-list is the loop's own needs (poll,
 * recvmsg/sendmsg on its socketpair, mmap of the frame's memfd, close)
 * plus what the C and C++ runtimes use while computing (malloc's brk, mmap,
 * munmap, mremap, madvise; futex; clocks; write to stderr).  Memory is
 * never mapped executable.  Anything else kills the whole process
 * (SECCOMP_RET_KILL_PROCESS): no new file, socket, process or thread; the
 * pool then restarts the worker as it does after any crash.
 *
 * The filter is built with libseccomp, which handles each architecture's
 * syscall numbers; it applies to the calling process only (no threads
 * exist yet in a worker).
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "ocrd.h"

static const int allowed[] = {
	/* the job loop: worker.c */
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(close), SCMP_SYS(fcntl), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(write), SCMP_SYS(writev),
	/* memory: malloc, OpenCV's and Tesseract's buffers, the frame map */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* the C++ runtime and glibc while computing */
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	/* leaving (abort() raises with tgkill, allowed below for ourselves only) */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
#ifdef __SANITIZE_ADDRESS__
	/*
	 * The sanitizer build (make check-asan) only: the runtime's alternate
	 * signal stack at exit, and UBSan's vptr check, which probes whether
	 * memory is readable by writing it into a pipe.
	 */
	SCMP_SYS(sigaltstack), SCMP_SYS(pipe2), SCMP_SYS(pipe),
#endif
};

int
ocr_sandbox_enter(void)
{
	scmp_filter_ctx ctx;
	int r = 0;

	/*
	 * localtime_r() in log lines reads /etc/localtime on first use, which
	 * the filter forbids: load it now.
	 */
	tzset();
	/*
	 * Killing the process needs seccomp(2)'s action query; where that is
	 * refused, killing the thread is the same here (a worker has one).
	 */
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL &&
	    (ctx = seccomp_init(SCMP_ACT_KILL_THREAD)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r >= 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* mmap and mprotect, but never of executable memory */
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* no_new_privs too (libseccomp's default): the filter needs no privilege */
	if (r >= 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r < 0 ? r : 0;
}
