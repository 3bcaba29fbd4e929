// The command line: parses options, calls one pipeline function per command and
// maps its outcome to an exit status. main() only adds the last-resort catch.
#pragma once

namespace cdrift {

int run_cli(int argc, char** argv);

} // namespace cdrift
