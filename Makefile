# Builds and installs the extension with PGXS (PostgreSQL 15). The pure core is also built, with its
# unit tests and benchmarks, by CMakeLists.txt; scripts/test.sh runs everything.
EXTENSION = embedding
EXTVERSION = 0.7.0
MODULE_big = embedding

CORE_SRCS := $(sort $(shell find src/core -name '*.cpp'))
GLUE_SRCS := $(sort $(wildcard src/pg/*.cpp src/pg/am/*.cpp src/pg/hnsw/*.cpp src/pg/ivfflat/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

# The install script is assembled from its parts in sql/ext (one per area). Earlier versions'
# install scripts and the upgrade scripts between versions are kept, unchanged, in sql/versions.
EXT_PARTS := $(sort $(wildcard sql/ext/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(sort $(wildcard sql/versions/*.sql))

# Every sql/<name>.sql is a pg_regress test with expected/<name>.out.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

# Eigen (Debian's libeigen3-dev) is header-only: only the include path is needed.
EIGEN_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags eigen3 2>/dev/null || echo -I/usr/include/eigen3))
PG_CPPFLAGS = -I$(CURDIR)/src $(EIGEN_CFLAGS)
# -MMD -MP: each object records the headers it includes (src/**/*.d), so a header change rebuilds
# only what includes it.
PG_CXXFLAGS = -MMD -MP -std=c++20 -O2 -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-register -fvisibility-inlines-hidden
# ICU (libicu-dev; PostgreSQL itself links it): Unicode classes, case mapping and NFD for the
# BERT tokenizer.
SHLIB_LINK = -lstdc++ -lpthread -licuuc

# No LLVM bitcode: the JIT does not inline C++ and clang would need the same flags.
override with_llvm = no

PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Instruction-set files are built for their instruction set only; dispatch picks them at run time.
%_avx2.o: override CXXFLAGS += -mavx2 -mfma -mf16c -mpopcnt

EXTRA_CLEAN = $(OBJS:.o=.d)
-include $(OBJS:.o=.d)

$(EXTENSION)--$(EXTVERSION).sql: $(EXT_PARTS)
	cat $^ > $@
