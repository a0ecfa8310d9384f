/*
 * run.h - run bin/virtuoso as a user would, from a test: its exit status,
 * stdout and stderr; in the foreground (run_as, RUN) or in the background
 * (run_start, run_finish) for tests that signal it mid-run.
 */
#ifndef TESTS_RUN_H
#define TESTS_RUN_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define BIN "bin/virtuoso"

struct result {
	int status;		/* exit status, or 128 + signal */
	char out[1 << 16];
	char err[4096];
	/* for run_start */
	pid_t pid;
	int ofd, efd;
};

static inline void run_slurp(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Start BIN with args (NULL-terminated, argv[0] not included); as 'uid' if >= 0. */
static inline void run_start(struct result *r, int uid, const char *const *args)
{
	char outp[] = "/tmp/vrun-out-XXXXXX", errp[] = "/tmp/vrun-err-XXXXXX";
	const char *argv[32] = { BIN };

	r->ofd = mkstemp(outp);
	r->efd = mkstemp(errp);
	cr_assert(r->ofd >= 0 && r->efd >= 0);
	unlink(outp);
	unlink(errp);
	for (int i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	r->pid = fork();
	cr_assert_neq(r->pid, -1);
	if (!r->pid) {
		dup2(r->ofd, 1);
		dup2(r->efd, 2);
		if (uid >= 0 && (setgid(65534) || setuid((uid_t)uid)))
			_exit(99);
		execv(BIN, (char *const *)argv);
		_exit(98);
	}
}

static inline void run_finish(struct result *r)
{
	int st;

	waitpid(r->pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	run_slurp(r->ofd, r->out, sizeof(r->out));
	run_slurp(r->efd, r->err, sizeof(r->err));
}

static inline void run_as(struct result *r, int uid, const char *const *args)
{
	run_start(r, uid, args);
	run_finish(r);
}

#define RUN(r, ...) run_as(r, -1, (const char *const[]){ __VA_ARGS__, NULL })

static inline int run_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#endif
