#include "cdrift/util/glob.hpp"

#include <doctest/doctest.h>

using cdrift::Glob;
using cdrift::glob_match;

TEST_CASE("glob: literal patterns compare whole components") {
  CHECK(glob_match("/etc/passwd", "/etc/passwd"));
  CHECK_FALSE(glob_match("/etc/passwd", "/etc/passwd-"));
  CHECK_FALSE(glob_match("/etc/passwd", "/etc/passwd/x"));
  CHECK_FALSE(glob_match("/etc", "/etcetera"));
  CHECK(glob_match("/", "/"));
  CHECK_FALSE(glob_match("/", "/etc"));
}

TEST_CASE("glob: '*' stays within one component") {
  CHECK(glob_match("/etc/*", "/etc/hosts"));
  CHECK_FALSE(glob_match("/etc/*", "/etc/cron.d/job"));
  CHECK_FALSE(glob_match("/etc/*", "/etc"));
  CHECK(glob_match("/etc/cron.*/*", "/etc/cron.daily/logrotate"));
  CHECK(glob_match("/usr/lib/python3*/x", "/usr/lib/python3.11/x"));
  CHECK_FALSE(glob_match("/usr/lib/python3*/x", "/usr/lib/python2.7/x"));
  CHECK(glob_match("/a/*b*c", "/a/xxbyyc"));
  CHECK_FALSE(glob_match("/a/*b*c", "/a/xxbyyd"));
  CHECK(glob_match("/a/x*", "/a/x")); // '*' may match nothing
}

TEST_CASE("glob: '**' spans any number of components, including none") {
  // trailing
  CHECK(glob_match("/etc/**", "/etc/ssh/sshd_config"));
  CHECK(glob_match("/etc/**", "/etc/hosts"));
  CHECK(glob_match("/etc/**", "/etc"));
  CHECK_FALSE(glob_match("/etc/**", "/etcx/hosts"));
  // leading
  CHECK(glob_match("**/.ssh/authorized_keys", "/root/.ssh/authorized_keys"));
  CHECK(glob_match("**/.ssh/authorized_keys", "/home/a/b/.ssh/authorized_keys"));
  CHECK(glob_match("**/.ssh/authorized_keys", "/.ssh/authorized_keys"));
  CHECK_FALSE(glob_match("**/.ssh/authorized_keys", "/root/.ssh/authorized_keys2"));
  // middle, zero and several components
  CHECK(glob_match("/lib/**/*.ko", "/lib/x.ko"));
  CHECK(glob_match("/lib/**/*.ko", "/lib/modules/6.1/kernel/fs/x.ko"));
  CHECK_FALSE(glob_match("/lib/**/*.ko", "/lib/modules/x.ko.xz"));
  CHECK(glob_match("/a/**/b/**/c", "/a/b/c"));
  CHECK(glob_match("/a/**/b/**/c", "/a/x/b/y/z/c"));
  CHECK_FALSE(glob_match("/a/**/b/**/c", "/a/x/y/c"));
  CHECK(glob_match("/**", "/"));
  CHECK(glob_match("/**", "/anything/at/all"));
  CHECK(glob_match("**", "/x/y"));
}

TEST_CASE("glob: '?' and character classes") {
  CHECK(glob_match("/etc/sed??????", "/etc/sedAb12Xy"));
  CHECK_FALSE(glob_match("/etc/sed??????", "/etc/sedative"));
  CHECK_FALSE(glob_match("/a/?", "/a/"));  // '?' needs a character
  CHECK_FALSE(glob_match("/a?b", "/a/b")); // and never matches '/'
  CHECK(glob_match("/etc/rc[0-6S].d/x", "/etc/rc3.d/x"));
  CHECK(glob_match("/etc/rc[0-6S].d/x", "/etc/rcS.d/x"));
  CHECK_FALSE(glob_match("/etc/rc[0-6S].d/x", "/etc/rc7.d/x"));
  CHECK(glob_match("/x/[!a]b", "/x/cb"));
  CHECK_FALSE(glob_match("/x/[!a]b", "/x/ab"));
  CHECK(glob_match("/x/[^a]b", "/x/cb"));
  CHECK(glob_match("/x/[]]", "/x/]"));
  CHECK(glob_match("/x/\\*", "/x/*"));
  CHECK_FALSE(glob_match("/x/\\*", "/x/a"));
}

TEST_CASE("glob: dots are literal and hidden files are not special") {
  CHECK_FALSE(glob_match("/etc/ld.so.preload", "/etc/ldXsoXpreload"));
  CHECK(glob_match("/root/*", "/root/.bashrc")); // no hiding behind a leading dot
  CHECK(glob_match("/usr/**/.*", "/usr/lib/.hidden"));
  CHECK_FALSE(glob_match("/usr/**/.*", "/usr/lib/visible"));
  CHECK(glob_match("**/.*.swp", "/etc/.passwd.swp"));
  CHECK_FALSE(glob_match("**/.*.swp", "/etc/passwd.swp"));
}

TEST_CASE("glob: Glob object keeps its pattern") {
  Glob g("/var/log/**");
  CHECK(g.pattern() == "/var/log/**");
  CHECK(g.matches("/var/log/nginx/access.log"));
  CHECK_FALSE(g.matches("/var/lib/x"));
}

TEST_CASE("glob: many wildcards stay fast and correct") {
  std::string path = "/";
  for (int i = 0; i < 60; ++i)
    path += "a/";
  path += "b";
  CHECK(glob_match("/**/**/**/**/**/**/b", path));
  CHECK_FALSE(glob_match("/**/**/**/**/**/**/c", path));
  CHECK(glob_match("/a/*a*a*a*a*a*a*b", "/a/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
  CHECK_FALSE(glob_match("/a/*a*a*a*a*a*a*b", "/a/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaac"));
}
