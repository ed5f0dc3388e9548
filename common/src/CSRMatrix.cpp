#include "mlcfd/CSRMatrix.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <stdexcept>
#include <utility>

namespace mlcfd
{

void CSRMatrix::check(const std::string& name) const
{
    const auto fail = [&name](const std::string& what) { throw std::invalid_argument(name + ": " + what); };
    if (rowStart.size() != rows + 1)
    {
        fail("rowStart has " + std::to_string(rowStart.size()) + " entries for " + std::to_string(rows)
             + " rows (rows + 1 expected)");
    }
    if (column.size() != value.size())
    {
        fail("column has " + std::to_string(column.size()) + " entries but value has "
             + std::to_string(value.size()));
    }
    if (rowStart.front() != 0 || rowStart.back() != static_cast<std::int64_t>(value.size()))
    {
        fail("rowStart must run from 0 to the number of nonzeros (" + std::to_string(value.size()) + ")");
    }
    for (std::size_t i = 0; i < rows; ++i)
    {
        if (rowStart[i + 1] < rowStart[i])
        {
            fail("rowStart decreases at row " + std::to_string(i));
        }
    }
    const auto width = static_cast<std::int64_t>(numCols());
    for (std::size_t i = 0; i < rows; ++i)
    {
        for (std::int64_t k = rowStart[i]; k < rowStart[i + 1]; ++k)
        {
            if (column[k] < 0 || column[k] >= width)
            {
                fail("row " + std::to_string(i) + " has column " + std::to_string(column[k]) + " outside [0, "
                     + std::to_string(width) + ")");
            }
            if (!std::isfinite(value[k]))
            {
                fail("entry (" + std::to_string(i) + ", " + std::to_string(column[k]) + ") is not finite");
            }
        }
    }
}

void CSRMatrix::multiply(const double* x, double* y) const
{
    for (std::size_t i = 0; i < rows; ++i)
    {
        double sum = 0;
        for (std::int64_t k = rowStart[i]; k < rowStart[i + 1]; ++k)
        {
            sum += value[k] * x[column[k]];
        }
        y[i] = sum;
    }
}

void CSRMatrix::multiplyTransposed(const double* y, double* x) const
{
    std::fill(x, x + numCols(), 0.0);
    for (std::size_t i = 0; i < rows; ++i)
    {
        for (std::int64_t k = rowStart[i]; k < rowStart[i + 1]; ++k)
        {
            x[column[k]] += value[k] * y[i];
        }
    }
}

CSRMatrix CSRMatrix::transposed() const
{
    // Counting sort by column: rows of the result are the columns of A.
    CSRMatrix T;
    T.rows = numCols();
    T.cols = rows;
    T.rowStart.assign(numCols() + 1, 0);
    for (std::int64_t c : column) ++T.rowStart[c + 1];
    for (std::size_t k = 0; k < numCols(); ++k) T.rowStart[k + 1] += T.rowStart[k];
    T.column.resize(column.size());
    T.value.resize(value.size());
    std::vector<std::int64_t> next(T.rowStart.begin(), T.rowStart.end() - 1);
    for (std::size_t i = 0; i < rows; ++i)
    {
        for (std::int64_t p = rowStart[i]; p < rowStart[i + 1]; ++p)
        {
            const std::int64_t q = next[column[p]]++;
            T.column[q] = std::int64_t(i);
            T.value[q] = value[p];
        }
    }
    return T;
}

void CSRMatrix::sortRows()
{
    std::vector<std::pair<std::int64_t, double>> entries;
    for (std::size_t i = 0; i < rows; ++i)
    {
        entries.clear();
        for (std::int64_t k = rowStart[i]; k < rowStart[i + 1]; ++k)
            entries.emplace_back(column[k], value[k]);
        std::sort(
            entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t e = 0; e < entries.size(); ++e)
        {
            column[rowStart[i] + e] = entries[e].first;
            value[rowStart[i] + e] = entries[e].second;
        }
    }
}

double CSRMatrix::diagonal(std::size_t row) const
{
    for (std::int64_t k = rowStart[row]; k < rowStart[row + 1]; ++k)
    {
        if (column[k] == static_cast<std::int64_t>(row)) return value[k];
    }
    return 0;
}

CSRMatrix CSRMatrix::fromDense(const double* dense, std::size_t rows, std::size_t cols)
{
    CSRMatrix A;
    A.rows = rows;
    A.cols = cols;
    A.rowStart.assign(1, 0);
    for (std::size_t i = 0; i < rows; ++i)
    {
        for (std::size_t j = 0; j < cols; ++j)
        {
            if (dense[i * cols + j] != 0)
            {
                A.column.push_back(static_cast<std::int64_t>(j));
                A.value.push_back(dense[i * cols + j]);
            }
        }
        A.rowStart.push_back(static_cast<std::int64_t>(A.column.size()));
    }
    return A;
}

namespace
{

constexpr const char* systemHeader = "mlcfd-csr-system";

template<class T> void writeArray(std::ostream& os, const char* name, const std::vector<T>& values)
{
    os << name;
    for (const T& v : values) os << ' ' << v;
    os << '\n';
}

template<class T>
void readArray(
    std::istream& is, const std::string& path, const char* name, std::vector<T>& values, std::size_t size)
{
    std::string word;
    if (!(is >> word) || word != name)
    {
        throw std::runtime_error(
            "linear system file '" + path + "': entry '" + name + "' expected, found '" + word + "'");
    }
    values.resize(size);
    for (std::size_t k = 0; k < size; ++k)
    {
        if (!(is >> values[k]))
        {
            throw std::runtime_error("linear system file '" + path + "': entry '" + name + "' has "
                                     + std::to_string(k) + " values, " + std::to_string(size) + " expected");
        }
    }
}

} // namespace

void writeCSRSystem(const std::string& path, const CSRMatrix& matrix, const std::vector<double>& rhs)
{
    matrix.check();
    if (rhs.size() != matrix.rows)
    {
        throw std::invalid_argument("writeCSRSystem: rhs has " + std::to_string(rhs.size()) + " entries for "
                                    + std::to_string(matrix.rows) + " rows");
    }
    std::ofstream os(path);
    if (!os)
    {
        throw std::runtime_error("cannot write linear system file '" + path + "'");
    }
    os << std::setprecision(std::numeric_limits<double>::max_digits10);
    os << systemHeader << " 1\n"
       << "rows " << matrix.rows << " nonzeros " << matrix.nonzeros() << '\n';
    writeArray(os, "rowStart", matrix.rowStart);
    writeArray(os, "column", matrix.column);
    writeArray(os, "value", matrix.value);
    writeArray(os, "rhs", rhs);
    if (!os)
    {
        throw std::runtime_error("error while writing linear system file '" + path + "'");
    }
}

void readCSRSystem(const std::string& path, CSRMatrix& matrix, std::vector<double>& rhs)
{
    std::ifstream is(path);
    if (!is)
    {
        throw std::runtime_error("linear system file '" + path + "' not found or not readable");
    }
    std::string header, rowsWord, nonzerosWord;
    int version = 0;
    std::size_t rows = 0, nonzeros = 0;
    if (!(is >> header >> version) || header != systemHeader || version != 1)
    {
        throw std::runtime_error(
            "linear system file '" + path + "': first line must be '" + std::string(systemHeader) + " 1'");
    }
    if (!(is >> rowsWord >> rows >> nonzerosWord >> nonzeros) || rowsWord != "rows"
        || nonzerosWord != "nonzeros")
    {
        throw std::runtime_error(
            "linear system file '" + path + "': second line must be 'rows N nonzeros NNZ'");
    }
    matrix.rows = rows;
    readArray(is, path, "rowStart", matrix.rowStart, rows + 1);
    readArray(is, path, "column", matrix.column, nonzeros);
    readArray(is, path, "value", matrix.value, nonzeros);
    readArray(is, path, "rhs", rhs, rows);
    try
    {
        matrix.check();
    }
    catch (const std::invalid_argument& e)
    {
        throw std::runtime_error("linear system file '" + path + "': " + e.what());
    }
}

} // namespace mlcfd
