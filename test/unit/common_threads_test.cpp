// WorkerTeam, the core's one worker pool: every part runs once a run, workers start with every
// signal blocked, a failed part stops the others and its exception reaches the caller, and the
// caller's `waiting` runs while the others finish.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/common/threads.h"

namespace embedding {
namespace {

TEST(WorkerTeam, RunsEveryPartOncePerRunAndPartZeroOnTheCaller) {
  WorkerTeam team(4);
  ASSERT_EQ(team.size(), 4);
  const std::thread::id caller = std::this_thread::get_id();
  for (int round = 0; round < 3; ++round) {
    std::vector<std::atomic<int>> runs(4);
    std::atomic<bool> zero_on_caller{false};
    team.run([&](int part) {
      ++runs[part];
      if (part == 0) zero_on_caller = std::this_thread::get_id() == caller;
    });
    for (auto& r : runs) EXPECT_EQ(r.load(), 1);
    EXPECT_TRUE(zero_on_caller.load());
  }
}

TEST(WorkerTeam, WorkersStartWithEverySignalBlocked) {
  WorkerTeam team(3);
  std::atomic<int> blocked{0};
  team.run([&](int part) {
    if (part == 0) return;
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    if (sigismember(&mask, SIGINT) == 1 && sigismember(&mask, SIGUSR1) == 1) ++blocked;
  });
  EXPECT_EQ(blocked.load(), 2);
  sigset_t mine;
  pthread_sigmask(SIG_SETMASK, nullptr, &mine);
  EXPECT_EQ(sigismember(&mine, SIGUSR1), 0);  // the caller's own mask is restored
}

TEST(WorkerTeam, AFailedPartStopsTheOthersAndReachesTheCaller) {
  WorkerTeam team(3);
  std::atomic<bool> others_saw_stop{true};
  EXPECT_THROW(team.run([&](int part) {
    if (part == 1) throw std::runtime_error("part 1 failed");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!team.stopped())
      if (std::chrono::steady_clock::now() > deadline) {
        others_saw_stop = false;
        return;
      }
  }),
               std::runtime_error);
  EXPECT_TRUE(others_saw_stop.load());
  // The next run starts with the flag cleared and no stale error.
  std::atomic<int> parts{0};
  team.run([&](int) {
    if (!team.stopped()) ++parts;
  });
  EXPECT_EQ(parts.load(), 3);
}

TEST(WorkerTeam, TheCallerWaitsInWaitingAndItsExceptionStopsTheWorkers) {
  WorkerTeam team(2);
  std::atomic<int> calls{0};
  team.run(
      [&](int part) {
        if (part == 1) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      },
      [&] { ++calls; }, std::chrono::milliseconds(1));
  EXPECT_GT(calls.load(), 0);
  EXPECT_THROW(team.run(
                   [&](int part) {
                     while (part == 1 && !team.stopped()) std::this_thread::yield();
                   },
                   [] { throw std::runtime_error("cancelled"); }, std::chrono::milliseconds(1)),
               std::runtime_error);
}

TEST(WorkerTeam, ATeamOfOneRunsOnTheCallerAlone) {
  WorkerTeam team(1);
  EXPECT_EQ(team.size(), 1);
  int runs = 0;
  team.run([&](int part) { runs += part + 1; });
  EXPECT_EQ(runs, 1);
  EXPECT_THROW(team.run([](int) { throw std::runtime_error("alone"); }), std::runtime_error);
}

}  // namespace
}  // namespace embedding
