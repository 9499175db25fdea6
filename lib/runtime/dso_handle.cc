// What the C start files (crtbeginS.o) would give a shared object, for the
// preload libraries, which are linked without them (-nostartfiles, see
// Makefile.am): all they brought besides were weak references to
// _ITM_*TMCloneTable, __gmon_start__ and __cxa_finalize, looked up at load
// in every process for nothing.
//
// __dso_handle is this object's identity: pthread_atfork() (through
// libc_nonshared) registers the records' fork handlers under it. The start
// files would also call __cxa_finalize(__dso_handle) at unload, to drop
// those handlers before their code is unmapped; the libraries are linked
// -z nodelete instead, so that their code is never unmapped (an
// interposer that went away under a running program would take its
// records with it anyway).
//
// Only the shared objects contain this file (the convenience library is
// linked into them whole); a program linked with the runtime library has
// its own __dso_handle from its start files and never pulls this one in.
extern "C" {

__attribute__((visibility("hidden"))) void *__dso_handle = &__dso_handle;

}  // extern "C"
