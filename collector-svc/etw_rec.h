/*
 * A connection seen through Kernel-Network events (etw_conns.h) as the
 * record a sample's batch takes (connbatch.h): role, ends, times, bytes,
 * and its owner.  Pure and portable, so the whole way from an ETW payload
 * to what the snapshot carries is unit-tested on every platform;
 * events_win.c looks the owner up in the running process.
 */
#ifndef PROCNET_ETW_REC_H
#define PROCNET_ETW_REC_H

#include "connbatch.h"
#include "etw_conns.h"
#include "events.h"

/*
 * Fills *r from c.  owner: the process with c's pid as it runs now (start
 * time, name), or NULL when it could not be read (it exited): the record
 * keeps the pid with start time 0 and no name.  A connection no event gave
 * a pid (pid 0 is the Idle process, never an owner) is owned by the kernel.
 */
void etw_rec_fill(struct conn_rec *r, const struct etw_conn *c,
    const struct events_owner *owner);

#endif
