/*
 * The daemon's signals, as flags the main loop polls: stop (SIGINT, SIGTERM;
 * Ctrl-C / console close on Windows) and reload (SIGHUP; Windows has none,
 * the rules file's modification time is watched instead).
 */
#ifndef PROCNET_WEBD_SIGNALS_H
#define PROCNET_WEBD_SIGNALS_H

#include <stdbool.h>

int signals_init(void);
/* True once a stop was asked for. */
bool signals_stop_requested(void);
/* True when a reload was asked for since the last call. */
bool signals_take_reload(void);
/* Sleeps up to ms, returning early when a signal arrives. */
void signals_wait(int ms);
/* Asks for a stop as SIGTERM would; any thread (the Windows service's
 * STOP/SHUTDOWN control, common/service.h). */
void signals_request_stop(void);

#endif
