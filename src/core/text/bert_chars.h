// The character rules of BERT's basic tokenizer, one character at a time: classes, the full
// lower-case mapping and canonical decomposition (from ICU, with an ASCII table in front).
#pragma once

#include <cstddef>
#include <string>

namespace embedding::text::bert {

// Removed by the clean-up: categories Cc, Cf, Cn, Co, Cs, but not tab, newline and CR.
bool is_control(char32_t cp);
// Where words end: space, tab, newline, CR, space separators (Zs), line and paragraph separators.
bool is_word_break(char32_t cp);
// ASCII !-/ :-@ [-` {-~ and the categories P*.
bool is_punctuation(char32_t cp);
// BERT's "Chinese character" blocks (CJK Unified Ideographs, extensions, compatibility blocks).
bool is_cjk(char32_t cp);
// The Unicode properties Case_Ignorable and Cased, which decide Final_Sigma's context.
bool is_case_ignorable(char32_t cp);
bool is_cased(char32_t cp);

// The full lower-case mapping of cp (root locale) appended to out. Its only context-dependent
// rule is Final_Sigma: U+03A3 becomes U+03C2 when `final_sigma` (preceded by a cased character
// and not followed by one, case-ignorable characters skipped), U+03C3 otherwise.
void append_lower(char32_t cp, bool final_sigma, std::u32string& out);

// True when a canonical decomposition (NFD) segment always starts at cp, whatever precedes it:
// NFD of a text is the concatenation of NFD of its pieces cut before such characters.
bool starts_nfd_segment(char32_t cp);
// NFD of `segment` with the non-spacing marks (category Mn) removed, appended to out.
void append_nfd_without_marks(const std::u32string& segment, std::u32string& out);

}  // namespace embedding::text::bert
