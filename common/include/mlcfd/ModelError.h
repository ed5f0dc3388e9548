// mlcfd: the exception every mlcfd component throws for bad input.
#ifndef MLCFD_MODEL_ERROR_H
#define MLCFD_MODEL_ERROR_H

#include <stdexcept>
#include <string>

namespace mlcfd
{

/// Thrown for a missing or malformed model file, invalid metadata, input of
/// the wrong width or non-finite values. The message always names the file.
class ModelError : public std::runtime_error
{
public:
    ModelError(const std::string& file, const std::string& what)
        : std::runtime_error("mlcfd model '" + file + "': " + what), file_(file)
    {
    }

    const std::string& file() const noexcept { return file_; }

private:
    std::string file_;
};

} // namespace mlcfd

#endif
