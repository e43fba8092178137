// What keeps model handling safe and interruptible: the interrupt poll reaching long loops (and
// only the thread that installed it), files that are not regular files or are links refused
// without blocking, source files changed while read refused, the atomic writer never following a
// planted link, formats checked against their header lines, case-sensitive vocabularies looked up
// exactly first, and non-finite vectors reported as errors.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/io/mapped_file.h"
#include "core/models/loaders.h"
#include "core/models/model.h"
#include "core/models/model_builder.h"
#include "core/models/sentence_encoder.h"
#include "core/models/similarity.h"
#include "core/text/tokenizer.h"

namespace embedding::models {
namespace {

int polls = 0;
int polls_before_cancel = 0;

void counting_poll() {
  if (++polls >= polls_before_cancel) throw Error(ErrorCode::kCancelled, "cancelled by test");
}

// Installs counting_poll on this thread for one test.
struct PollScope {
  explicit PollScope(int cancel_after) {
    polls = 0;
    polls_before_cancel = cancel_after;
    set_interrupt_poll(&counting_poll);
  }
  ~PollScope() { set_interrupt_poll(nullptr); }
};

std::string glove_text(int words, int dims) {
  std::string text;
  for (int w = 0; w < words; ++w) {
    text += "w" + std::to_string(w);
    for (int d = 0; d < dims; ++d) text += ' ' + std::to_string((w * 7 + d * 3) % 11 - 5) + ".5";
    text += '\n';
  }
  return text;
}

ErrorCode error_code_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& error) {
    return error.code();
  }
  return ErrorCode::kInternal;  // no error
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/emb_safety_XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(Interrupts, LoadingBuildingAndVerifyingPollAndStop) {
  const std::string text = glove_text(20000, 8);
  {
    PollScope scope(3);
    EXPECT_EQ(error_code_of([&] { load_word_vectors(text, SourceFormat::kGloveText); }),
              ErrorCode::kCancelled);
    EXPECT_EQ(polls, 3);
  }
  const WordVectors vectors = load_word_vectors(text, SourceFormat::kGloveText);
  {
    PollScope scope(2);
    EXPECT_EQ(error_code_of([&] { build_model(vectors); }), ErrorCode::kCancelled);
  }
  const Model model = Model::from_bytes(build_model(vectors));
  {
    PollScope scope(2);
    EXPECT_EQ(error_code_of([&] { model.verify(); }), ErrorCode::kCancelled);
  }
  {
    PollScope scope(1);
    EXPECT_EQ(error_code_of([&] { most_similar(model, std::vector<float>(8, 1.0f), 5); }),
              ErrorCode::kCancelled);
  }
  std::string long_text;
  for (int i = 0; i < 20000; ++i) long_text += "w1 w2 ";
  {
    PollScope scope(2);
    EXPECT_EQ(error_code_of([&] { embed_text(model, long_text); }), ErrorCode::kCancelled);
  }
  // Without a poll the same calls run to the end.
  EXPECT_TRUE(embed_text(model, long_text).has_value());
}

TEST(Interrupts, ThePollBelongsToTheThreadThatSetIt) {
  PollScope scope(1);
  bool other_thread_has_poll = true;
  std::thread([&] { other_thread_has_poll = tls_interrupt_poll != nullptr; }).join();
  EXPECT_FALSE(other_thread_has_poll);
  EXPECT_EQ(error_code_of([] { poll_interrupts(); }), ErrorCode::kCancelled);
}

TEST(MappedFiles, AFifoIsRefusedWithoutBlocking) {
  TempDir dir;
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_code_of([&] { io::MappedFile file(fifo); }), ErrorCode::kIoError);
  EXPECT_EQ(error_code_of([&] { load_word_vectors_file(fifo, SourceFormat::kGloveText); }),
            ErrorCode::kIoError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// What the next poll does to the file being read (the poll runs between read steps).
std::string file_to_change;
void truncate_on_second_poll() {
  if (++polls == 2) ASSERT_EQ(::truncate(file_to_change.c_str(), 1000), 0);
}
void append_on_second_poll() {
  if (++polls != 2) return;
  std::FILE* f = std::fopen(file_to_change.c_str(), "a");
  std::fputs("x", f);
  std::fclose(f);
}

TEST(SourceFiles, AFileThatChangesWhileReadIsAnErrorNotATornImage) {
  TempDir dir;
  file_to_change = dir / "big.txt";
  const std::string content(20u << 20, 'v');  // five read steps
  for (const InterruptPoll change : {&truncate_on_second_poll, &append_on_second_poll}) {
    {
      std::FILE* f = std::fopen(file_to_change.c_str(), "w");
      std::fwrite(content.data(), 1, content.size(), f);
      std::fclose(f);
    }
    EXPECT_EQ(io::read_file(file_to_change), content);
    polls = 0;
    set_interrupt_poll(change);
    try {
      io::read_file(file_to_change);
      ADD_FAILURE() << "a file changed during the read was read without an error";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kIoError);
      EXPECT_NE(std::string(error.what()).find("changed while"), std::string::npos) << error.what();
    }
    set_interrupt_poll(nullptr);
  }
}

TEST(FiniteVectors, ANaNInAnUnverifiedModelIsAnErrorNotNull) {
  std::vector<std::byte> bytes =
      build_model(load_word_vectors(glove_text(10, 4), SourceFormat::kGloveText));
  const Model clean = Model::from_bytes(bytes);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Word 0's first element (from_bytes checks the header only).
  const auto offset = reinterpret_cast<const std::byte*>(clean.matrix()) - clean.bytes().data();
  std::memcpy(bytes.data() + offset, &nan, sizeof nan);
  const Model broken = Model::from_bytes(bytes);
  EXPECT_EQ(error_code_of([&] { embed_text(broken, "w0 w1"); }), ErrorCode::kDataException);
  EXPECT_TRUE(embed_text(clean, "w0 w1").has_value());
}

TEST(MappedFiles, OwnFilesRefuseSymbolicLinks) {
  TempDir dir;
  const std::string target = dir / "model.emb";
  const auto bytes = build_model(load_word_vectors(glove_text(10, 4), SourceFormat::kGloveText));
  write_file_atomically(target, bytes);
  ASSERT_EQ(::symlink(target.c_str(), (dir / "link.emb").c_str()), 0);
  EXPECT_EQ(Model::open_file(dir / "link.emb").vocab_size(), 10u);  // user paths may be links
  EXPECT_EQ(error_code_of([&] { Model::open_own_file(dir / "link.emb"); }), ErrorCode::kIoError);
  EXPECT_EQ(Model::open_own_file(target).vocab_size(), 10u);
}

TEST(MappedFiles, AtomicWritesNeverFollowAPlantedLink) {
  TempDir dir;
  const std::string victim = dir / "victim";
  const std::string path = dir / "cache.emb";
  {
    std::FILE* f = std::fopen(victim.c_str(), "w");
    std::fputs("keep", f);
    std::fclose(f);
  }
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  ASSERT_EQ(::symlink(victim.c_str(), temporary.c_str()), 0);
  const std::vector<std::byte> bytes(100, std::byte{7});
  write_file_atomically(path, bytes);
  struct stat st;
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4);  // the link's target is untouched
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 100);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(FormatChecks, AHeaderLineIsNotGloveAndGloveIsNotFasttext) {
  const std::string with_header = "2 3\na 1 2 3\nb 4 5 6\n";
  const std::string without_header = "a 1 2 3\nb 4 5 6\n";
  try {
    load_word_vectors(with_header, SourceFormat::kGloveText);
    FAIL() << "a fastText file loaded as GloVe";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
    EXPECT_NE(error.detail().find("'fasttext'"), std::string::npos) << error.detail();
  }
  try {
    load_word_vectors(without_header, SourceFormat::kFasttextVec);
    FAIL() << "a GloVe file loaded as fastText";
  } catch (const Error& error) {
    EXPECT_NE(error.detail().find("'glove'"), std::string::npos) << error.detail();
  }
  EXPECT_EQ(load_word_vectors(with_header, SourceFormat::kFasttextVec).words.size(), 2u);
  EXPECT_EQ(load_word_vectors(without_header, SourceFormat::kGloveText).words.size(), 2u);
}

TEST(CaseSensitiveModels, TokensKeepTheirWrittenForm) {
  text::Tokenizer tokenizer("Hello WORLD-Wide Don't");
  text::Token token;
  std::vector<std::pair<std::string, std::string>> seen;
  while (tokenizer.next(&token)) seen.emplace_back(token.text, token.original);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"hello", "Hello"}, {"world-wide", "WORLD-Wide"}, {"do", "Do"}, {"n't", "n't"}};
  EXPECT_EQ(seen, expected);
}

TEST(CaseSensitiveModels, EmbedLooksUpTheExactFormFirstThenTheLowerCase) {
  // "WORLD" and "world" are different words; "Hello" exists only in lower case.
  const Model model = Model::from_bytes(build_model(load_word_vectors(
      "the 0.1 0.1 0.1\nworld 1 0 0\nWORLD 0 1 0\nhello 0 0 1\n", SourceFormat::kGloveText)));
  const auto upper = embed_text(model, "WORLD");
  const auto lower = embed_text(model, "world");
  ASSERT_TRUE(upper && lower);
  EXPECT_NE(*upper, *lower);
  EXPECT_EQ(embed_text(model, "Hello"), embed_text(model, "hello"));
  EXPECT_EQ(embed_text(model, "World"), lower);  // no exact "World": its lower-case form
}

}  // namespace
}  // namespace embedding::models
