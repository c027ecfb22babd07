#include "tail/state_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace posfeed::client::tail {
namespace {

namespace fs = std::filesystem;

class StateFile : public testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("posfeed-tail-test-" + std::to_string(::getpid()) + "-" +
                testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(StateFile, FormatsTheResumePointAndThePartialGroup) {
    EXPECT_EQ(format_state({}), "\n");
    EXPECT_EQ(format_state({"20210727.091105994", std::nullopt}), "20210727.091105994\n");
    EXPECT_EQ(format_state({"20210727.091105994", partial_group{"20210727.091105995", 2}}),
              "20210727.091105994\npartial 20210727.091105995 2\n");
}

TEST_F(StateFile, RoundTripsThroughAnAtomicWrite) {
    const fs::path file = dir_ / "state";
    const resume_state states[] = {
        {},
        {"0", std::nullopt},
        {"20210727.091105994", std::nullopt},
        {"20210727.091105994", partial_group{"20210727.091105995", 3}},
        {"", partial_group{"20210727.091105995", 1}},
    };
    for (const resume_state& s : states) {
        SCOPED_TRACE(format_state(s));
        ASSERT_EQ(write_state_file(file, s), "");
        EXPECT_FALSE(fs::exists(dir_ / "state.tmp"));
        const state_read r = read_state_file(file);
        ASSERT_TRUE(r.ok) << r.error;
        ASSERT_TRUE(r.state.has_value());
        EXPECT_EQ(*r.state, s);
    }
}

TEST_F(StateFile, AMissingFileIsAFirstRun) {
    const state_read r = read_state_file(dir_ / "none");
    EXPECT_TRUE(r.ok);
    EXPECT_FALSE(r.state.has_value());
}

TEST_F(StateFile, RejectsMalformedTextNamingTheLine) {
    const std::pair<std::string, std::string> rows[] = {
        {"yesterday\n", "line 1"},
        {"20210727.091105994\npartial\n", "line 2"},
        {"20210727.091105994\npartial 20210727.091105995\n", "line 2"},
        {"20210727.091105994\npartial 20210727.091105995 x\n", "line 2"},
        {"20210727.091105994\npartial 20210727.091105995 0\n", "line 2"},
        {"20210727.091105994\nfull 20210727.091105995 1\n", "line 2"},
        {"1\n2\n3\n", "at most 2 lines"},
    };
    for (const auto& [text, words] : rows) {
        SCOPED_TRACE(text);
        const state_read r = parse_state(text);
        EXPECT_FALSE(r.ok);
        EXPECT_NE(r.error.find(words), std::string::npos) << r.error;
    }
    const fs::path file = dir_ / "bad";
    std::ofstream(file) << "yesterday\n";
    const state_read r = read_state_file(file);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find(file.string()), std::string::npos) << r.error;
}

TEST_F(StateFile, ReportsAWriteIntoAMissingDirectory) {
    const std::string error = write_state_file(dir_ / "no" / "state", {"0", std::nullopt});
    EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
}

} // namespace
} // namespace posfeed::client::tail
