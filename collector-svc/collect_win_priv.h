/*
 * The Windows collector's insides (collect.h is the interface), shared by
 * collect_win.c (the sample, lifetime), collect_win_sock.c (the four
 * socket tables), collect_win_proc.c (Toolhelp list, per-process
 * details), collect_win_info.c (services, ESTATS) and collect_win_events.c
 * (connection events); events_win.c uses filetime_unix_ms.  Not for other
 * modules.
 */
#ifndef PROCNET_COLLECT_WIN_PRIV_H
#define PROCNET_COLLECT_WIN_PRIV_H

#include "collect.h"
#include "estats.h"
#include "svcscan.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <winternl.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A table bigger than this is not a socket table (4 Mi sockets of the
 * largest row are ~700 MB; SNAP_MAX_SOCKETS caps the snapshot anyway). */
#define TABLE_MAX_BYTES		(256u << 20)
/* The table can grow between the size call and the data call; retry a
 * few times with headroom before calling it an error. */
#define TABLE_RETRIES		8
#define CMDLINE_MAX_BYTES	SNAP_MAX_STRING
/* ProcessCommandLineInformation (Windows 8.1+); not in mingw's enum. */
#define PROCESS_COMMAND_LINE_INFO	60
/* 100 ns ticks between 1601-01-01 and 1970-01-01. */
#define EPOCH_DIFF_100NS	116444736000000000ULL
#define USER_CACHE_MAX		256

struct proc_info {
	int32_t pid;
	uint64_t start_time;		/* Unix ms; 0 when not readable */
	char *exe, *cmdline, *user;
};

/* A Toolhelp row: every process's name and parent, openable or not. */
struct th_proc {
	int32_t pid, ppid;
	char name[MAX_PATH * 3];
};

struct user_entry {
	PSID sid;
	char *name;
};

struct collector {
	void *tbuf;			/* socket table buffer, reused */
	DWORD tcap;
	struct snap_socket *socks;	/* this sample's sockets */
	size_t n_socks, cap_socks;
	struct proc_info *cache;	/* details of last sample, by pid */
	size_t n_cache;
	struct user_entry users[USER_CACHE_MAX];
	size_t n_users;
	NTSTATUS (NTAPI *query_process)(HANDLE, PROCESSINFOCLASS, PVOID, ULONG,
	    PULONG);
	wchar_t path[32768];		/* image path scratch (long paths) */
	/* one command line split into arguments (split_cmdline) */
	char argbuf[CMDLINE_MAX_BYTES + 1];
	const char *argv[SNAP_MAX_ARGC];
	struct collect_stats stats;
	char err[256];
	/* collect_win_info.c: services per process, ESTATS */
	struct svcscan *svc;
	struct svcmap *svcm;
	bool svc_ok;
	char svc_err[192];
	char svc_buf[SVCMAP_MAX_STRING];
	struct estats *est;
	struct estats_conn *ec;		/* this sample's established TCP */
	struct estats_info *ei;
	size_t cap_ec;
	char est_note[192];
};


/* collect_win.c */
uint64_t filetime_unix_ms(const FILETIME *ft);
int add_process(struct collector *c, struct snapshot_builder *b,
    const struct th_proc *tp, const struct proc_info *p);
void set_err(struct collector *c, const char *fmt, ...);
int win_errno(DWORD err);

/* collect_win_sock.c */
int collect_sockets(struct collector *c, const struct collect_opts *o);

/* collect_win_info.c */
int win_info_init(struct collector *c);		/* 0 or -ENOMEM */
void win_info_free(struct collector *c);
int win_services(struct collector *c);		/* 0 or -ENOMEM */
const char *win_service_of(struct collector *c, int32_t pid);
/* ESTATS onto c->socks; enable false (one-off samples) reads none. */
int win_estats(struct collector *c, bool enable);	/* 0 or -ENOMEM */

/* collect_win_events.c */
/* The connections events (NULL: none collected) saw since the last
 * sample, their owners that are not among added[0..n_added) (sorted by
 * pid), and the events source, into b.  tcp_table: c->socks holds this
 * sample's whole TCP table (events_note_socket). */
int win_events(struct collector *c, struct snapshot_builder *b,
    struct events *events, bool tcp_table, const struct th_proc *th,
    size_t n_th, const struct proc_info *added, size_t n_added);

/* collect_win_proc.c */
/* What opening a process for its details came to.  Only DENIED means an
 * owner's details are hidden from us (the snapshot's "not privileged"); a
 * process that exited between the table read and the open is GONE. */
enum proc_open {
	PROC_OPENED,
	PROC_DENIED,	/* ERROR_ACCESS_DENIED */
	PROC_GONE,	/* anything else: no such process (any more) */
	PROC_OPEN_MAX
};
enum proc_open proc_open_outcome(DWORD err);
/* Fills *p for pid (only the pid unless PROC_OPENED). */
enum proc_open read_proc(struct collector *c, int32_t pid,
    struct proc_info *p);
const struct th_proc *th_find(const struct th_proc *v, size_t n, int32_t pid);
int toolhelp_list(struct collector *c, struct th_proc **out, size_t *n);
#endif
