// Test-only view of libelf for the differential test of the pure-Swift reader.
// The GELF_* accessors are function-like macros, which Swift does not import; these wrappers
// expose libelf's own definitions so the test never re-derives the bit layouts itself.
#include <libelf.h>
#include <gelf.h>

static inline unsigned char clibelf_st_type(const GElf_Sym *sym) { return GELF_ST_TYPE(sym->st_info); }
static inline unsigned char clibelf_st_bind(const GElf_Sym *sym) { return GELF_ST_BIND(sym->st_info); }
static inline unsigned char clibelf_st_visibility(const GElf_Sym *sym) { return GELF_ST_VISIBILITY(sym->st_other); }
static inline GElf_Xword clibelf_r_sym(const GElf_Rel *rel) { return GELF_R_SYM(rel->r_info); }
static inline GElf_Xword clibelf_r_type(const GElf_Rel *rel) { return GELF_R_TYPE(rel->r_info); }
static inline unsigned int clibelf_ev_current(void) { return EV_CURRENT; }
