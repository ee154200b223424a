/*
 * Who may be and who is on the other end of the collector's pipe: the
 * service SID the DACL grants (ipc_win_service_sid) and the client's check
 * of the server (ipc_conn_check_server).  Library code: nothing logs.
 */
#include "ipc_win_priv.h"
#include "le.h"
#include "wstr_win.h"

#include <aclapi.h>
#include <bcrypt.h>
#include <sddl.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define SHA1_LEN	20

int
ipc_win_service_sid(const char *service, wchar_t *out, size_t len)
{
	BCRYPT_ALG_HANDLE alg = NULL;
	BCRYPT_HASH_HANDLE hash = NULL;
	unsigned char d[SHA1_LEN];
	DWORD v[SHA1_LEN / 4];
	wchar_t *w;
	NTSTATUS st;
	int n;

	if (service == NULL || service[0] == '\0')
		return -EINVAL;
	if ((w = wstr_from_utf8(service)) == NULL)
		return -EINVAL;
	CharUpperBuffW(w, (DWORD)wcslen(w));
	st = BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA1_ALGORITHM, NULL, 0);
	if (BCRYPT_SUCCESS(st))
		st = BCryptCreateHash(alg, &hash, NULL, 0, NULL, 0, 0);
	if (BCRYPT_SUCCESS(st))
		st = BCryptHashData(hash, (PUCHAR)w,
		    (ULONG)(wcslen(w) * sizeof(wchar_t)), 0);
	if (BCRYPT_SUCCESS(st))
		st = BCryptFinishHash(hash, d, sizeof(d), 0);
	if (hash != NULL)
		BCryptDestroyHash(hash);
	if (alg != NULL)
		BCryptCloseAlgorithmProvider(alg, 0);
	free(w);
	if (!BCRYPT_SUCCESS(st))
		return -EIO;
	for (int i = 0; i < SHA1_LEN / 4; i++)
		v[i] = le32_get(d + 4 * i);
	n = _snwprintf(out, len, L"S-1-5-80-%lu-%lu-%lu-%lu-%lu",
	    (unsigned long)v[0], (unsigned long)v[1], (unsigned long)v[2],
	    (unsigned long)v[3], (unsigned long)v[4]);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* "DOMAIN\name (S-1-...)", or the SID string alone, into buf. */
static void
sid_text(PSID sid, char *buf, size_t len)
{
	wchar_t name[256], dom[256], *str = NULL;
	DWORD nl = 256, dl = 256;
	SID_NAME_USE use;
	char n8[520] = "", s8[200] = "?";

	if (ConvertSidToStringSidW(sid, &str)) {
		wstr_to_utf8(str, -1, s8, sizeof(s8));
		LocalFree(str);
	}
	if (LookupAccountSidW(NULL, sid, name, &nl, dom, &dl, &use)) {
		char d8[256], u8[256];

		wstr_to_utf8(dom, -1, d8, sizeof(d8));
		wstr_to_utf8(name, -1, u8, sizeof(u8));
		snprintf(n8, sizeof(n8), "%s%s%s ", d8, d8[0] ? "\\" : "", u8);
	}
	snprintf(buf, len, "%s(%s)", n8, s8);
}

/* The SID account names; *out is LocalFree'd by the caller. */
static int
expected_sid(const char *account, PSID *out)
{
	BYTE buf[SECURITY_MAX_SID_SIZE];
	DWORD n = sizeof(buf), dl = 256;
	wchar_t *w, dom[256];
	SID_NAME_USE use;
	PSID sid;

	if (account == NULL) {
		if (!CreateWellKnownSid(WinLocalSystemSid, NULL, buf, &n))
			return -EIO;
	} else {
		if ((w = wstr_from_utf8(account)) == NULL)
			return -EINVAL;
		if (_wcsnicmp(w, L"S-", 2) == 0) {
			bool ok = ConvertStringSidToSidW(w, out);

			free(w);
			return ok ? 0 : -EINVAL;
		}
		if (!LookupAccountNameW(NULL, w, buf, &n, dom, &dl, &use)) {
			free(w);
			return -EINVAL;
		}
		free(w);
	}
	n = GetLengthSid(buf);
	if ((sid = LocalAlloc(LPTR, n)) == NULL)
		return -ENOMEM;
	CopySid(n, sid, buf);
	*out = sid;
	return 0;
}

/* The user of pid's token, into buf; 0, or -EACCES when the process or
 * its token cannot be opened with our rights. */
static int
process_user(DWORD pid, BYTE *buf, DWORD len)
{
	HANDLE p, t = NULL;
	DWORD err, n;
	int r = 0;

	if ((p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
	    pid)) == NULL)
		return GetLastError() == ERROR_ACCESS_DENIED ? -EACCES : -EIO;
	if (!OpenProcessToken(p, TOKEN_QUERY, &t) ||
	    !GetTokenInformation(t, TokenUser, buf, len, &n)) {
		err = GetLastError();
		r = err == ERROR_ACCESS_DENIED ? -EACCES : -EIO;
	}
	if (t != NULL)
		CloseHandle(t);
	CloseHandle(p);
	return r;
}

int
ipc_conn_check_server(struct ipc_conn *c, const char *account, char *why,
    size_t len)
{
	HANDLE h = ipc_win_conn_handle(c);
	BYTE tu[256], admins[SECURITY_MAX_SID_SIZE];
	DWORD an = sizeof(admins);
	PSECURITY_DESCRIPTOR sd = NULL;
	PSID want = NULL, got = NULL;
	const char *what = "runs as";
	char got8[600], want8[600];
	ULONG pid = 0;
	int r;

	if (!GetNamedPipeServerProcessId(h, &pid)) {
		snprintf(why, len, "cannot tell which process serves the pipe");
		return -EIO;
	}
	if ((r = expected_sid(account, &want)) != 0) {
		snprintf(why, len, "no such account '%s'", account ? account :
		    "LocalSystem");
		return r;
	}
	if ((r = process_user(pid, tu, sizeof(tu))) == 0)
		got = ((TOKEN_USER *)tu)->User.Sid;
	else if (r == -EACCES) {
		/* Not allowed to read its token (webd as LocalService may not
		 * open a LocalSystem process): the pipe's owner instead,
		 * which its creator can set only to its own account or, as
		 * an administrator, to Administrators. */
		if (GetSecurityInfo(h, SE_KERNEL_OBJECT,
		    OWNER_SECURITY_INFORMATION, &got, NULL, NULL, NULL,
		    &sd) != ERROR_SUCCESS)
			got = NULL;
		what = "owns the pipe as";
	}
	if (got == NULL) {
		snprintf(why, len, "pid %lu: cannot read who it runs as",
		    (unsigned long)pid);
		LocalFree(want);
		return -EACCES;
	}
	r = 0;
	if (!EqualSid(got, want)) {
		/* Administrators own what SYSTEM creates; any administrator
		 * could replace the collector anyway. */
		bool admin_owner = sd != NULL && account == NULL &&
		    CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL,
		    admins, &an) && EqualSid(got, admins);

		if (!admin_owner) {
			sid_text(got, got8, sizeof(got8));
			sid_text(want, want8, sizeof(want8));
			snprintf(why, len, "pid %lu %s %s, not %s",
			    (unsigned long)pid, what, got8, want8);
			r = -EPERM;
		}
	}
	if (sd != NULL)
		LocalFree(sd);
	LocalFree(want);
	return r;
}
