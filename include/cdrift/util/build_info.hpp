#pragma once

namespace cdrift {

extern const char* const version_string;
extern const char* const git_commit;

} // namespace cdrift
