/*
 * Helper for tests/it_windows.py, run under Wine:
 *	it_win_helper peer SECONDS
 *	it_win_helper squat PIPE SECONDS	holds PIPE first, prints its pid
 *	it_win_helper whoami		this process's user SID
 *	it_win_helper sddl-path PATH	a file's owner and DACL as SDDL
 *		opens a loopback TCP listener, a client connected to it and a
 *		bound UDP socket, prints {"pid":..,"listen":..,"client":..,
 *		"udp":..} on one line, then moves a byte on each every 300 ms
 *		(Wine attributes a socket to its process only after I/O)
 *		until SECONDS have passed or it is killed.
 *	it_win_helper sddl PIPE
 *		prints the DACL of the named pipe as SDDL, read back with
 *		GetSecurityInfo (what the OS stored, not what was asked for).
 *	it_win_helper junk PIPE
 *		sends bytes that are not the protocol and waits to be dropped.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
fail(const char *what)
{
	fprintf(stderr, "it_win_helper: %s failed: error %lu / %d\n", what,
	    (unsigned long)GetLastError(), WSAGetLastError());
	return 1;
}

static unsigned short
port_of(SOCKET s)
{
	struct sockaddr_in sin;
	int len = sizeof(sin);

	if (getsockname(s, (struct sockaddr *)&sin, &len) != 0)
		return 0;
	return ntohs(sin.sin_port);
}

static int
peer(int seconds)
{
	struct sockaddr_in sin, usin;
	SOCKET lsn, cli, srv, udp;
	ULONGLONG end;
	WSADATA wsa;
	char b;

	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
		return fail("WSAStartup");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	usin = sin;
	lsn = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (lsn == INVALID_SOCKET ||
	    bind(lsn, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lsn, 4) != 0)
		return fail("listen");
	sin.sin_port = htons(port_of(lsn));
	cli = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (cli == INVALID_SOCKET ||
	    connect(cli, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return fail("connect");
	if ((srv = accept(lsn, NULL, NULL)) == INVALID_SOCKET)
		return fail("accept");
	udp = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	if (udp == INVALID_SOCKET ||
	    bind(udp, (struct sockaddr *)&usin, sizeof(usin)) != 0)
		return fail("udp bind");
	usin.sin_port = htons(port_of(udp));
	printf("{\"pid\":%lu,\"listen\":%u,\"client\":%u,\"udp\":%u}\n",
	    (unsigned long)GetCurrentProcessId(), port_of(lsn), port_of(cli),
	    port_of(udp));
	fflush(stdout);
	end = GetTickCount64() + (ULONGLONG)seconds * 1000;
	while (GetTickCount64() < end) {
		if (send(cli, "c", 1, 0) != 1 || recv(srv, &b, 1, 0) != 1 ||
		    send(srv, "s", 1, 0) != 1 || recv(cli, &b, 1, 0) != 1)
			return fail("tcp echo");
		if (sendto(udp, "u", 1, 0, (struct sockaddr *)&usin,
		    sizeof(usin)) != 1 || recv(udp, &b, 1, 0) != 1)
			return fail("udp echo");
		Sleep(300);
	}
	closesocket(cli);
	closesocket(srv);
	closesocket(lsn);
	closesocket(udp);
	WSACleanup();
	return 0;
}

static int
sddl(const char *pipe)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	wchar_t wname[512], *str = NULL;
	HANDLE h;
	DWORD rc;

	if (MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wname, 512) == 0)
		return fail("pipe name");
	/* READ_CONTROL only: reading the DACL needs no data access. */
	h = CreateFileW(wname, READ_CONTROL, 0, NULL, OPEN_EXISTING, 0, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return fail("CreateFileW");
	rc = GetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION,
	    NULL, NULL, NULL, NULL, &sd);
	CloseHandle(h);
	if (rc != ERROR_SUCCESS) {
		SetLastError(rc);
		return fail("GetSecurityInfo");
	}
	if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(sd,
	    SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &str, NULL))
		return fail("ConvertSecurityDescriptorToStringSecurityDescriptorW");
	printf("%ls\n", str);
	LocalFree(str);
	LocalFree(sd);
	return 0;
}

/* Connects to the pipe, says something that is not the protocol, and
 * waits for the server to hang up: the collector must drop such a client
 * (and say so in its log, which the test reads). */
static int
junk(const char *pipe)
{
	static const char garbage[64] = "this is not a procnet frame";
	wchar_t wname[512];
	char buf[256];
	DWORD n;
	HANDLE h;

	if (MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wname, 512) == 0)
		return fail("pipe name");
	h = CreateFileW(wname, GENERIC_READ | FILE_WRITE_DATA, 0, NULL,
	    OPEN_EXISTING, 0, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return fail("CreateFileW");
	if (!WriteFile(h, garbage, sizeof(garbage), &n, NULL))
		return fail("WriteFile");
	/* Whatever the server answers (an error frame) until it closes. */
	while (ReadFile(h, buf, sizeof(buf), &n, NULL) && n > 0)
		;
	CloseHandle(h);
	printf("dropped\n");
	return 0;
}

/* Holds the pipe name before the collector, as a squatter would: prints
 * its pid, then answers every client with bytes that are not the
 * protocol, for SECONDS. */
static int
squat(const char *pipe, int seconds)
{
	static const char lie[32] = "fabricated data";
	ULONGLONG end = GetTickCount64() + (ULONGLONG)seconds * 1000;
	wchar_t wname[512];
	DWORD n;
	HANDLE h;

	if (MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wname, 512) == 0)
		return fail("pipe name");
	printf("%lu\n", (unsigned long)GetCurrentProcessId());
	fflush(stdout);
	while (GetTickCount64() < end) {
		h = CreateNamedPipeW(wname, PIPE_ACCESS_DUPLEX,
		    PIPE_TYPE_BYTE | PIPE_WAIT, PIPE_UNLIMITED_INSTANCES,
		    4096, 4096, 0, NULL);
		if (h == INVALID_HANDLE_VALUE)
			return fail("CreateNamedPipeW");
		if (ConnectNamedPipe(h, NULL) ||
		    GetLastError() == ERROR_PIPE_CONNECTED)
			WriteFile(h, lie, sizeof(lie), &n, NULL);
		FlushFileBuffers(h);
		DisconnectNamedPipe(h);
		CloseHandle(h);
	}
	return 0;
}

/* A file or folder's owner and DACL as SDDL. */
static int
sddl_path(const char *path)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	wchar_t wpath[1024], *str = NULL;
	DWORD rc;

	if (MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 1024) == 0)
		return fail("path");
	rc = GetNamedSecurityInfoW(wpath, SE_FILE_OBJECT,
	    OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, NULL, NULL,
	    NULL, NULL, &sd);
	if (rc != ERROR_SUCCESS) {
		SetLastError(rc);
		return fail("GetNamedSecurityInfoW");
	}
	if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(sd,
	    SDDL_REVISION_1, OWNER_SECURITY_INFORMATION |
	    DACL_SECURITY_INFORMATION, &str, NULL))
		return fail("ConvertSecurityDescriptorToStringSecurityDescriptorW");
	printf("%ls\n", str);
	LocalFree(str);
	LocalFree(sd);
	return 0;
}

/* This process's user as a SID string: under Wine every process, the
 * services included, runs as that one user. */
static int
whoami(void)
{
	BYTE tu[256];
	DWORD n;
	HANDLE t;
	wchar_t *str;

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &t) ||
	    !GetTokenInformation(t, TokenUser, tu, sizeof(tu), &n))
		return fail("GetTokenInformation");
	CloseHandle(t);
	if (!ConvertSidToStringSidW(((TOKEN_USER *)tu)->User.Sid, &str))
		return fail("ConvertSidToStringSidW");
	printf("%ls\n", str);
	LocalFree(str);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "peer") == 0)
		return peer(atoi(argv[2]) > 0 ? atoi(argv[2]) : 60);
	if (argc == 3 && strcmp(argv[1], "sddl") == 0)
		return sddl(argv[2]);
	if (argc == 3 && strcmp(argv[1], "junk") == 0)
		return junk(argv[2]);
	if (argc == 4 && strcmp(argv[1], "squat") == 0)
		return squat(argv[2], atoi(argv[3]) > 0 ? atoi(argv[3]) : 60);
	if (argc == 2 && strcmp(argv[1], "whoami") == 0)
		return whoami();
	if (argc == 3 && strcmp(argv[1], "sddl-path") == 0)
		return sddl_path(argv[2]);
	fprintf(stderr, "usage: it_win_helper peer SECONDS | sddl PIPE | "
	    "junk PIPE | squat PIPE SECONDS | whoami | sddl-path PATH\n");
	return 2;
}
