/*
 * procnet-bench-fixture: the population of docs/performance.md, on loopback.
 *
 * K worker processes, each with a TCP listener on 127.0.0.1 and one on
 * [::1]; N established TCP connections whose two ends sit in different
 * workers (every 10th over ::1, IPv4 clients bound to many 127.x.y.z source
 * addresses so ephemeral ports never run out); U UDP sockets (every 2nd
 * connected, every 5th on ::1).  Nothing is sent: the connections are idle.
 *
 * Prints "ready ..." on stdout once everything is up, then waits.  It is
 * bounded: SIGTERM/SIGINT/SIGHUP, the death of whoever started it
 * (PR_SET_PDEATHSIG), a dead worker or the time limit (-t) all end it, and
 * the workers die with it (SIGKILL from the parent, and PR_SET_PDEATHSIG in
 * case the parent itself is killed).  Every TCP socket has SO_LINGER 0, so
 * teardown sends RST and leaves no TIME_WAIT behind to pollute the next run.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "argnum.h"
#include "log.h"

#define MAX_CONNS	200000
#define MAX_WORKERS	1000
#define MAX_UDP		10000
#define MAX_SECONDS	(24 * 3600)
/* IPv4 client connections per 127.x.y.z source address. */
#define CONNS_PER_SRC	500
/* How long a worker may take to set up its part. */
#define SETUP_SECONDS	120

struct fixture {
	unsigned conns, workers, udp, seconds;
	int *lfd4, *lfd6;		/* per worker, parent only until fork */
	uint16_t *port4, *port6;	/* per worker listener ports */
	pid_t *pids;
	pid_t parent;
	int status_w;			/* worker -> parent: one byte when ready */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: procnet-bench-fixture [-n conns] [-k workers] [-u udp] "
	    "[-t seconds]\n"
	    "  -n  established TCP connections (default 1000, max %u)\n"
	    "  -k  worker processes (default 50, 2..%u)\n"
	    "  -u  UDP sockets (default 250, max %u)\n"
	    "  -t  hard time limit in seconds (default 900)\n"
	    "Prints \"ready ...\" when the population is up; ends on SIGTERM,\n"
	    "SIGINT, when its parent dies, or at the time limit.\n",
	    MAX_CONNS, MAX_WORKERS, MAX_UDP);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Which worker is the server end of connection i (never the client end,
 * i % workers).  Spreads each client's connections over all other workers,
 * and gives every worker about conns/workers server ends. */
static unsigned
conn_server(const struct fixture *fx, unsigned i)
{
	unsigned c = i % fx->workers, q = i / fx->workers;

	return (c + 1 + q % (fx->workers - 1)) % fx->workers;
}

static bool
conn_v6(unsigned i)
{
	return i % 10 == 9;
}

static void
raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need)
		rl.rlim_max = need;	/* root only; a clear error otherwise */
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit RLIMIT_NOFILE %llu (run as root, or raise "
		    "the hard limit)", (unsigned long long)need);
}

static void
set_linger0(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
		fatal("setsockopt SO_LINGER");
}

static void
fill_sa(struct sockaddr_storage *ss, socklen_t *len, bool v6, uint32_t v4addr,
    uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(v4addr);
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
	}
}

static int
open_listener(bool v6, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	fd = socket(v6 ? AF_INET6 : AF_INET,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
	    sizeof(one)) == -1)
		fatal("setsockopt IPV6_V6ONLY");
	set_linger0(fd);
	fill_sa(&ss, &len, v6, INADDR_LOOPBACK, 0);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		fatal("bind listener");
	/* The kernel caps this at net.core.somaxconn; workers accept while
	 * they connect, so the queue never needs to hold much. */
	if (listen(fd, 4096) == -1)
		fatal("listen");
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		fatal("getsockname");
	*port = v6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Accepts whatever is queued on the worker's two listeners. */
static unsigned
drain_accepts(const int lfd[2])
{
	unsigned n = 0;

	for (int k = 0; k < 2; k++) {
		for (;;) {
			int fd = accept4(lfd[k], NULL, NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (fd == -1) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				fatal("accept");
			}
			set_linger0(fd);
			n++;
		}
	}
	return n;
}

static void
worker_connect(const struct fixture *fx, unsigned i, const int lfd[2],
    unsigned *accepted, uint64_t deadline)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned srv = conn_server(fx, i);
	bool v6 = conn_v6(i);
	int fd, err;

	fd = socket(v6 ? AF_INET6 : AF_INET,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket (connection %u)", i);
	set_linger0(fd);
	if (!v6) {
		/* 127.1.0.1, 127.1.0.2, ...: a fresh source address every
		 * CONNS_PER_SRC connections keeps each one's ports plenty. */
		fill_sa(&ss, &len, false, 0x7f010001u + i / CONNS_PER_SRC, 0);
		if (bind(fd, (struct sockaddr *)&ss, len) == -1)
			fatal("bind client source (connection %u)", i);
	}
	fill_sa(&ss, &len, v6, INADDR_LOOPBACK,
	    v6 ? fx->port6[srv] : fx->port4[srv]);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return;
	if (errno != EINPROGRESS)
		fatal("connect (connection %u)", i);
	/* Keep accepting while the handshake completes: no worker ever waits
	 * on a peer whose accept queue is full because the peer is waiting. */
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = fd, .events = POLLOUT },
			{ .fd = lfd[0], .events = POLLIN },
			{ .fd = lfd[1], .events = POLLIN },
		};
		uint64_t now = now_ms();

		if (now >= deadline)
			fatalx("connection %u: setup time limit reached", i);
		if (poll(pfd, 3, (int)(deadline - now)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents || pfd[2].revents)
			*accepted += drain_accepts(lfd);
		if (pfd[0].revents == 0)
			continue;
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			fatal("getsockopt SO_ERROR");
		if (err != 0) {
			errno = err;
			fatal("connect (connection %u)", i);
		}
		return;
	}
}

static void
worker_udp(const struct fixture *fx, unsigned w)
{
	for (unsigned j = w; j < fx->udp; j += fx->workers) {
		struct sockaddr_storage ss;
		socklen_t len;
		bool v6 = j % 5 == 4;
		unsigned peer = (w + 1) % fx->workers;
		int fd;

		fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC,
		    0);
		if (fd == -1)
			fatal("socket udp");
		fill_sa(&ss, &len, v6, INADDR_LOOPBACK, 0);
		if (bind(fd, (struct sockaddr *)&ss, len) == -1)
			fatal("bind udp");
		if (j % 2 == 1) {
			/* A connected UDP socket sends nothing; the peer's TCP
			 * listener port just gives it a real remote end. */
			fill_sa(&ss, &len, v6, INADDR_LOOPBACK,
			    v6 ? fx->port6[peer] : fx->port4[peer]);
			if (connect(fd, (struct sockaddr *)&ss, len) == -1)
				fatal("connect udp");
		}
	}
}

static void __attribute__((noreturn))
worker_main(struct fixture *fx, unsigned w)
{
	int lfd[2] = { fx->lfd4[w], fx->lfd6[w] };
	unsigned expect = 0, accepted = 0, i;
	uint64_t deadline = now_ms() + SETUP_SECONDS * 1000;
	char name[32];		/* PR_SET_NAME keeps the first 15 */
	sigset_t none;

	/* Die with the fixture even if it is SIGKILLed; and if it already
	 * died between fork and here, do not linger. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("prctl PR_SET_PDEATHSIG");
	if (getppid() != fx->parent)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	snprintf(name, sizeof(name), "pnbench-w%u", w);
	prctl(PR_SET_NAME, name);

	for (unsigned k = 0; k < fx->workers; k++) {
		if (k == w)
			continue;
		close(fx->lfd4[k]);
		close(fx->lfd6[k]);
	}
	for (i = 0; i < fx->conns; i++)
		if (conn_server(fx, i) == w)
			expect++;
	for (i = w; i < fx->conns; i += fx->workers) {
		worker_connect(fx, i, lfd, &accepted, deadline);
		accepted += drain_accepts(lfd);
	}
	while (accepted < expect) {
		struct pollfd pfd[2] = {
			{ .fd = lfd[0], .events = POLLIN },
			{ .fd = lfd[1], .events = POLLIN },
		};
		uint64_t now = now_ms();

		if (now >= deadline)
			fatalx("worker %u: accepted %u of %u connections "
			    "before the setup time limit", w, accepted, expect);
		if (poll(pfd, 2, (int)(deadline - now)) == -1 && errno != EINTR)
			fatal("poll");
		accepted += drain_accepts(lfd);
	}
	worker_udp(fx, w);
	if (write(fx->status_w, "R", 1) != 1)
		fatal("write status");
	close(fx->status_w);
	for (;;)
		pause();
}

static void
reap_all(struct fixture *fx)
{
	for (unsigned w = 0; w < fx->workers; w++)
		if (fx->pids[w] > 0)
			kill(fx->pids[w], SIGKILL);
	for (unsigned w = 0; w < fx->workers; w++)
		if (fx->pids[w] > 0)
			while (waitpid(fx->pids[w], NULL, 0) == -1 &&
			    errno == EINTR)
				;
}

/* Returns the exit code for the signal that ends the fixture, or -1 to go
 * on waiting. */
static int
handle_signal(struct fixture *fx, int sfd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(sfd, &si, sizeof(si));

	if (n != (ssize_t)sizeof(si))
		return -1;
	switch (si.ssi_signo) {
	case SIGCHLD:
		log_warnx("a worker exited (pid %d); tearing down",
		    (int)si.ssi_pid);
		return 1;
	case SIGALRM:
		log_warnx("time limit of %u s reached; tearing down",
		    fx->seconds);
		return 3;
	default:
		return 0;
	}
}

int
main(int argc, char **argv)
{
	struct fixture fx = { .conns = 1000, .workers = 50, .udp = 250,
	    .seconds = 900 };
	sigset_t mask;
	int ch, sfd, pfd[2], rc = -1;
	unsigned ready = 0, per;
	uint64_t t0 = now_ms();

	log_init("procnet-bench-fixture", LOG_LEVEL_INFO);
	while ((ch = getopt(argc, argv, "n:k:u:t:h")) != -1) {
		switch (ch) {
		case 'n':
			if (argnum_uint(optarg, 1, MAX_CONNS, &fx.conns) < 0)
				fatalx("-n: expected 1..%u, got '%s'",
				    MAX_CONNS, optarg);
			break;
		case 'k':
			if (argnum_uint(optarg, 2, MAX_WORKERS, &fx.workers) < 0)
				fatalx("-k: expected 2..%u, got '%s'",
				    MAX_WORKERS, optarg);
			break;
		case 'u':
			if (argnum_uint(optarg, 0, MAX_UDP, &fx.udp) < 0)
				fatalx("-u: expected 0..%u, got '%s'",
				    MAX_UDP, optarg);
			break;
		case 't':
			if (argnum_uint(optarg, 1, MAX_SECONDS, &fx.seconds) < 0)
				fatalx("-t: expected 1..%u seconds, got '%s'",
				    MAX_SECONDS, optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	/* Whoever started us dying ends the fixture like a SIGTERM would. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		fatal("prctl PR_SET_PDEATHSIG");
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGALRM);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	signal(SIGPIPE, SIG_IGN);
	alarm(fx.seconds);

	/* Per worker: its client ends, about as many server ends, its UDP
	 * sockets, and everything inherited before it closes the rest. */
	per = (fx.conns + fx.workers - 1) / fx.workers;
	raise_nofile((rlim_t)3 * per + fx.udp / fx.workers + 2 * fx.workers +
	    256);

	fx.parent = getpid();
	fx.lfd4 = calloc(fx.workers, sizeof(*fx.lfd4));
	fx.lfd6 = calloc(fx.workers, sizeof(*fx.lfd6));
	fx.port4 = calloc(fx.workers, sizeof(*fx.port4));
	fx.port6 = calloc(fx.workers, sizeof(*fx.port6));
	fx.pids = calloc(fx.workers, sizeof(*fx.pids));
	if (!fx.lfd4 || !fx.lfd6 || !fx.port4 || !fx.port6 || !fx.pids)
		fatalx("out of memory");
	for (unsigned w = 0; w < fx.workers; w++) {
		fx.lfd4[w] = open_listener(false, &fx.port4[w]);
		fx.lfd6[w] = open_listener(true, &fx.port6[w]);
	}
	if (pipe2(pfd, O_CLOEXEC) == -1)
		fatal("pipe");
	fx.status_w = pfd[1];
	fflush(NULL);
	for (unsigned w = 0; w < fx.workers; w++) {
		pid_t pid = fork();

		if (pid == -1) {
			log_warn("fork");
			reap_all(&fx);
			return 1;
		}
		if (pid == 0) {
			close(pfd[0]);
			close(sfd);
			worker_main(&fx, w);
		}
		fx.pids[w] = pid;
	}
	close(pfd[1]);
	for (unsigned w = 0; w < fx.workers; w++) {
		close(fx.lfd4[w]);
		close(fx.lfd6[w]);
	}

	while (rc < 0 && ready < fx.workers) {
		struct pollfd p[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = pfd[0], .events = POLLIN },
		};
		char buf[MAX_WORKERS];
		ssize_t n;

		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			rc = 1;
			break;
		}
		if (p[0].revents)
			rc = handle_signal(&fx, sfd);
		if (rc < 0 && p[1].revents) {
			n = read(pfd[0], buf, sizeof(buf));
			if (n > 0)
				ready += (unsigned)n;
			else if (n == 0) {
				log_warnx("workers closed the status pipe "
				    "after %u of %u were ready", ready,
				    fx.workers);
				rc = 1;
			}
		}
	}
	if (rc < 0) {
		printf("ready workers=%u tcp_conns=%u udp=%u pid=%d "
		    "setup_ms=%llu\n", fx.workers, fx.conns, fx.udp,
		    (int)fx.parent, (unsigned long long)(now_ms() - t0));
		fflush(stdout);
	}
	while (rc < 0) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };

		if (poll(&p, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			rc = 1;
			break;
		}
		rc = handle_signal(&fx, sfd);
	}
	reap_all(&fx);
	free(fx.lfd4);
	free(fx.lfd6);
	free(fx.port4);
	free(fx.port6);
	free(fx.pids);
	return rc;
}
