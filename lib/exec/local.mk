# ---- lib/exec: records across exec ---------------------------------------------
# The hand-over of per-descriptor records to the program a process executes
# (LIBPROXYPROTO_HANDOVER): collecting and writing it, adopting it at load,
# and the real exec calls.
lib_libproxyproto_engine_la_SOURCES += \
	lib/exec/handover.h \
	lib/exec/handover_out.cc \
	lib/exec/handover_in.cc \
	lib/exec/real_exec.h \
	lib/exec/real_exec.cc
