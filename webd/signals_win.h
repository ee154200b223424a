/*
 * The Windows console control handler of signals_win.c, visible so a unit
 * test can hand it each event (tests/test_signals_win.c).
 */
#ifndef PROCNET_WEBD_SIGNALS_WIN_H
#define PROCNET_WEBD_SIGNALS_WIN_H

/* What SetConsoleCtrlHandler calls: nonzero when the event was ours (a
 * stop was asked for), 0 to pass it on. */
int signals_win_ctrl(unsigned long type);

#endif
