// Paths and helpers shared by the core's unit tests.
#ifndef MLCFD_TEST_MODELS_H
#define MLCFD_TEST_MODELS_H

#include "mlcfd/ModelError.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <unistd.h>

namespace mlcfd_test
{

/// Folder of the models written by write_test_models.py (ctest fixture).
inline std::string pythonModel(const std::string& name)
{
    return std::string(MLCFD_TEST_MODELS_DIR) + "/" + name;
}

/// A fresh file name in the build's test folder, unique per process.
inline std::string scratchFile(const std::string& name)
{
    return std::string(MLCFD_TEST_SCRATCH_DIR) + "/" + std::to_string(::getpid()) + "_" + name;
}

} // namespace mlcfd_test

/// Expect @p statement to throw mlcfd::ModelError whose message contains
/// both @p file and @p fragment.
#define EXPECT_MODEL_ERROR(statement, file, fragment)                                                        \
    try                                                                                                      \
    {                                                                                                        \
        statement;                                                                                           \
        ADD_FAILURE() << "no mlcfd::ModelError from: " #statement;                                           \
    }                                                                                                        \
    catch (const mlcfd::ModelError& e)                                                                       \
    {                                                                                                        \
        const std::string message = e.what();                                                                \
        EXPECT_NE(message.find(file), std::string::npos) << message;                                         \
        EXPECT_NE(message.find(fragment), std::string::npos) << message;                                     \
    }

#endif
