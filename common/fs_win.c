/*
 * fs.h on Windows: every path through its UTF-16 form and the wide calls
 * (CreateFileW, _wfopen, _wopen).  The identity is
 * GetFileInformationByHandle's: volume serial, file index and the
 * last-write time in 100 ns ticks -- stat()'s st_mtime has whole seconds,
 * which misses a same-size edit within one second.
 */
#include "fs.h"
#include "wstr_win.h"

#include <windows.h>

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>

/* 100 ns ticks from 1601 to 1970 */
#define EPOCH_DIFF_TICKS	116444736000000000LL

static int
win_errno(DWORD err)
{
	switch (err) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_NAME:
	case ERROR_BAD_PATHNAME:
		return -ENOENT;
	case ERROR_ACCESS_DENIED:
	case ERROR_SHARING_VIOLATION:
		return -EACCES;
	case ERROR_NOT_ENOUGH_MEMORY:
		return -ENOMEM;
	case ERROR_FILENAME_EXCED_RANGE:
		return -ENAMETOOLONG;
	default:
		return -EIO;
	}
}

int
fs_stamp(const char *path, struct fs_stamp *out)
{
	BY_HANDLE_FILE_INFORMATION fi;
	wchar_t *w;
	HANDLE h;
	DWORD err;
	int64_t t;

	if ((w = wstr_from_utf8(path)) == NULL)
		return -ENOMEM;
	/* Attributes only, shared every way: a check must never get in the
	 * way of an editor saving.  BACKUP_SEMANTICS opens folders too. */
	h = CreateFileW(w, FILE_READ_ATTRIBUTES, FILE_SHARE_READ |
	    FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
	    FILE_FLAG_BACKUP_SEMANTICS, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		return win_errno(GetLastError());
	if (!GetFileInformationByHandle(h, &fi)) {
		err = GetLastError();
		CloseHandle(h);
		return win_errno(err);
	}
	CloseHandle(h);
	out->type = (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ?
	    FS_TYPE_DIR : (fi.dwFileAttributes & FILE_ATTRIBUTE_DEVICE) ?
	    FS_TYPE_OTHER : FS_TYPE_FILE;
	out->volume = fi.dwVolumeSerialNumber;
	out->index = (uint64_t)fi.nFileIndexHigh << 32 | fi.nFileIndexLow;
	t = (int64_t)((uint64_t)fi.ftLastWriteTime.dwHighDateTime << 32 |
	    fi.ftLastWriteTime.dwLowDateTime);
	out->mtime_ns = (t - EPOCH_DIFF_TICKS) * 100;
	out->size = (int64_t)((uint64_t)fi.nFileSizeHigh << 32 |
	    fi.nFileSizeLow);
	return 0;
}

FILE *
fs_fopen(const char *path, const char *mode)
{
	wchar_t *w, *wm;
	FILE *f;

	w = wstr_from_utf8(path);
	wm = wstr_from_utf8(mode);
	if (w == NULL || wm == NULL) {
		free(w);
		free(wm);
		errno = ENOMEM;
		return NULL;
	}
	f = _wfopen(w, wm);
	free(w);
	free(wm);
	return f;
}

int
fs_open_read(const char *path)
{
	wchar_t *w;
	int fd;

	if ((w = wstr_from_utf8(path)) == NULL)
		return -ENOMEM;
	fd = _wopen(w, _O_RDONLY | _O_BINARY | _O_NOINHERIT);
	free(w);
	return fd >= 0 ? fd : (errno ? -errno : -EIO);
}
