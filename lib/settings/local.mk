# ---- lib/settings: what the server library is told ----------------------------
# The environment captured at load, the configuration file, whether the
# library acts in this process, and where bad values are reported.
lib_libproxyproto_engine_la_SOURCES += \
	lib/settings/captured_environment.h \
	lib/settings/captured_environment.cc \
	lib/settings/main_program.h \
	lib/settings/main_program.cc \
	lib/settings/setting_report.h \
	lib/settings/setting_report.cc \
	lib/settings/server_settings.h \
	lib/settings/server_settings.cc \
	lib/settings/header_features.h \
	lib/settings/header_features.cc
