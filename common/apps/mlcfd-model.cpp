// mlcfd-model: inspect, check and create mlcfd models from the command line.
#include "mlcfd/EddyViscosityClosure.h"
#include "mlcfd/FlexibleCG.h"
#include "mlcfd/LearnedPreconditioner.h"
#include "mlcfd/Model.h"
#include "mlcfd/ModelWriter.h"
#include "mlcfd/TensorBasisClosure.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <random>
#include <string>
#include <vector>

namespace
{

const char* const usage =
    R"(Usage:
  mlcfd-model inspect FILE                print the model's metadata and the
                                          range of its training inputs
  mlcfd-model check FILE [--rows N] [--threads T] [--device cpu|cuda]
                                          run it on random input (uniform in
                                          [0.5, 1.5]) and report the time per
                                          10^6 rows
  mlcfd-model check FILE DATA.csv [--margin 0.1]
                                          run it on your own inputs (one row
                                          per line, the model's inputs in
                                          order, ',' or ' ' between them, '#'
                                          comments) and report the rows
                                          outside its training range
  mlcfd-model closure FILE GRADIENTS.csv
                                          evaluate an LES closure (kind
                                          eddyViscosity or tensorBasis): each
                                          input line holds grad U (9 values,
                                          row-major, d u_j/d x_i) and delta,
                                          and nu where the model reads
                                          nuRatio; prints nut and the SGS
                                          stress tau (xx xy xz yy yz zz)
                                          per line
  mlcfd-model create smagorinsky FILE [--Ck 0.094] [--Ce 1.048] [--regime B]
  mlcfd-model create tensorBasisSmagorinsky FILE [--g2 0] [--Ck 0.094] [--Ce 1.048]
                [--regime B]              --regime: the model also reads
                                          nuRatio = nu/(delta^2 |grad U|) and
                                          returns nu_t - B nu (a reference
                                          of the regime input)
  mlcfd-model create jacobi FILE          a pointwise model z = r/diag (kind
                                          preconditioner): a fixture of the
                                          model format, which no
                                          preconditioner takes
  mlcfd-model create graphJacobi | gridJacobi2 | gridJacobi3 FILE
                                          reference preconditioner models
                                          (Jacobi's method in the scaled
                                          variables)
  mlcfd-model solve FILE SYSTEM.csr [--grid NX NY [NZ]] [--tolerance 1e-6]
                [--kept 2] [--max-iterations 10000] [--no-safeguard] [--no-compare]
                [--solution X.txt]
                                          solve a dumped linear system with
                                          FlexibleCG and the preconditioner
                                          model FILE, and with plain CG;
                                          prints iterations and times
)";

int fail(const std::string& message)
{
    std::cerr << "mlcfd-model: " << message << "\n\n" << usage;
    return 2;
}

// Options after the positional arguments: --name value pairs.
bool readOption(const std::vector<std::string>& args, const std::string& name, std::string& value)
{
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
    {
        if (args[i] == name)
        {
            value = args[i + 1];
            return true;
        }
    }
    return false;
}

// A numeric option: false when absent; a message naming the option when its
// value is not a number (std::stod alone would only say "stod").
bool readNumber(const std::vector<std::string>& args, const std::string& name, double& number)
{
    std::string value;
    if (!readOption(args, name, value)) return false;
    std::size_t used = 0;
    try
    {
        number = std::stod(value, &used);
    }
    catch (const std::exception&)
    {
        used = 0;
    }
    if (used == 0 || used != value.size())
    {
        throw std::invalid_argument("option " + name + " needs a number, not '" + value + "'");
    }
    return true;
}

std::string shortNumber(double value)
{
    std::ostringstream os;
    os << std::setprecision(4) << value;
    return os.str();
}

// Rows of @p width numbers from a CSV file; an empty message means success.
std::string readRows(
    const std::string& csv, std::size_t width, std::vector<double>& rows, const std::string& what)
{
    std::ifstream in(csv);
    if (!in) return "cannot read '" + csv + "'";
    std::string line;
    for (std::size_t lineNo = 1; std::getline(in, line); ++lineNo)
    {
        if (line.empty() || line[0] == '#') continue;
        std::replace(line.begin(), line.end(), ',', ' ');
        std::istringstream values(line);
        std::vector<double> v;
        double x;
        while (values >> x) v.push_back(x);
        if (v.size() != width || !values.eof())
        {
            return csv + ":" + std::to_string(lineNo) + ": expected " + std::to_string(width) + " numbers ("
                   + what + ")";
        }
        rows.insert(rows.end(), v.begin(), v.end());
    }
    return "";
}

int inspect(const std::string& file)
{
    mlcfd::ModelOptions options;
    options.warmupRows = 0;
    const mlcfd::Model model(file, options);
    const mlcfd::ModelMetadata& m = model.metadata();
    std::cout << "file:     " << file << '\n'
              << mlcfd::ModelMetadata::archiveEntry << ":\n"
              << m.toJson() << '\n';
    const mlcfd::TrainingRange& range = m.trainingRange;
    if (range.empty())
    {
        std::cout << "training range: not recorded (format version " << m.formatVersion
                  << "): inputs are not checked at run time\n";
        return 0;
    }
    std::cout << "training range (" << range.rows << " rows; inputs further than "
              << 100 * mlcfd::RangeCheck::defaultMargin
              << "% of a range outside it are"
                 " counted at run time):\n";
    std::cout << "  " << std::left << std::setw(14) << "input" << std::right << std::setw(12) << "min";
    for (const double level : range.levels)
    {
        std::cout << std::setw(12) << ("q" + shortNumber(level));
    }
    std::cout << std::setw(12) << "max" << '\n';
    for (std::size_t i = 0; i < m.inputCount(); ++i)
    {
        std::cout << "  " << std::left << std::setw(14) << m.inputs[i] << std::right << std::setw(12)
                  << shortNumber(range.min[i]);
        for (std::size_t l = 0; l < range.levels.size(); ++l)
        {
            std::cout << std::setw(12) << shortNumber(range.quantiles[l][i]);
        }
        std::cout << std::setw(12) << shortNumber(range.max[i]) << '\n';
    }
    return 0;
}

// Your own rows against the training range.
int checkData(const std::string& file, const std::string& csv, const std::vector<std::string>& args)
{
    mlcfd::ModelOptions options;
    options.warmupRows = 0;
    readNumber(args, "--margin", options.rangeMargin);
    const mlcfd::Model model(file, options);
    const mlcfd::ModelMetadata& m = model.metadata();
    if (!model.rangeCheck().active())
    {
        return fail(file + ": the model file records no training range (format version "
                    + std::to_string(m.formatVersion) + "); retrain it with a current trainer");
    }
    std::vector<double> in;
    const std::string problem = readRows(csv, model.inputCount(), in, "the model's inputs in order");
    if (!problem.empty()) return fail(problem);
    const std::size_t rows = in.size() / model.inputCount();
    if (rows == 0) return fail(csv + ": no data rows (one line per row, '#' comments)");
    std::vector<double> out(rows * model.outputCount());
    model.evaluate(in.data(), rows, model.inputCount(), out.data(), model.outputCount());

    mlcfd::RangeMonitor monitor;
    monitor.step(model.takeRangeCount(), model.rangeCheck(), m, file);
    const mlcfd::RangeCount& count = monitor.last();
    std::cout << "model: " << file << " (kind " << m.kind << ")\n"
              << "data:  " << csv << ", " << rows << " rows\n"
              << monitor.describe(m, model.rangeCheck()) << '\n'
              << "  " << std::left << std::setw(14) << "input" << std::right << std::setw(14)
              << "rows outside"
              << "  allowed range\n";
    for (std::size_t i = 0; i < m.inputCount(); ++i)
    {
        std::cout << "  " << std::left << std::setw(14) << m.inputs[i] << std::right << std::setw(14)
                  << count.outsideByInput[i] << "  [" << shortNumber(model.rangeCheck().lower(i)) << ", "
                  << shortNumber(model.rangeCheck().upper(i)) << "]\n";
    }
    return 0;
}

int check(const std::string& file, const std::vector<std::string>& args)
{
    mlcfd::ModelOptions options;
    std::string value;
    std::size_t rows = 100000;
    if (readOption(args, "--rows", value)) rows = std::stoul(value);
    if (readOption(args, "--threads", value)) options.threads = std::stoi(value);
    if (readOption(args, "--device", value)) options.device = value;

    const auto t0 = std::chrono::steady_clock::now();
    const mlcfd::Model model(file, options);
    const auto t1 = std::chrono::steady_clock::now();

    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> uniform(0.5, 1.5);
    std::vector<double> in(rows * model.inputCount());
    for (double& x : in) x = uniform(rng);
    std::vector<double> out(rows * model.outputCount());

    const int repeats = 5;
    double best = 1e300;
    for (int r = 0; r < repeats; ++r)
    {
        const auto a = std::chrono::steady_clock::now();
        model.evaluate(in.data(), rows, model.inputCount(), out.data(), model.outputCount());
        const auto b = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double>(b - a).count());
    }
    double sum = 0;
    for (double y : out) sum += y;

    std::cout << "model:        " << file << " (kind " << model.metadata().kind << ", " << model.inputCount()
              << " inputs, " << model.outputCount() << " outputs, " << model.metadata().dtype << ")\n"
              << "device:       " << model.device() << ", " << mlcfd::Model::threadCount() << " thread(s)\n"
              << "load+warm-up: " << std::chrono::duration<double>(t1 - t0).count() << " s\n"
              << "rows:         " << rows << " (best of " << repeats << ")\n"
              << "time:         " << best / rows * 1e6 << " s per 10^6 rows\n"
              << "output mean:  " << sum / out.size() << " (all finite)\n";
    return 0;
}

int closure(const std::string& file, const std::string& csv)
{
    mlcfd::ModelOptions options;
    options.warmupRows = 0;
    const mlcfd::ModelMetadata meta = mlcfd::Model(file, options).metadata();
    if (meta.kind != mlcfd::EddyViscosityClosure::kind && meta.kind != mlcfd::TensorBasisClosure::kind)
    {
        return fail(file + ": kind '" + meta.kind
                    + "' is not an LES closure"
                      " (eddyViscosity or tensorBasis)");
    }
    // A model that reads nuRatio needs the molecular viscosity: an 11th value.
    const bool regime = mlcfd::EddyViscosityClosure::readsRegime(meta, file, "an LES closure");
    const std::size_t width = regime ? 11 : 10;
    std::vector<double> rows;
    const std::string problem = readRows(csv, width, rows,
        regime ? "grad U row-major, delta, nu (the model reads nuRatio)" : "grad U row-major, delta");
    if (!problem.empty()) return fail(problem);
    const std::size_t n = rows.size() / width;
    std::vector<double> gradU(9 * n), delta(n), nu(n);
    for (std::size_t c = 0; c < n; ++c)
    {
        std::copy(rows.begin() + width * c, rows.begin() + width * c + 9, gradU.begin() + 9 * c);
        delta[c] = rows[width * c + 9];
        if (regime) nu[c] = rows[width * c + 10];
    }
    // tau = tauExtra - 2 nu_t S (tauExtra = 0 for an eddy viscosity).
    std::vector<double> nut(n), tau(6 * n, 0.0);
    if (meta.kind == mlcfd::EddyViscosityClosure::kind)
    {
        mlcfd::EddyViscosityClosure(file).computeNut(gradU.data(), delta.data(), nu.data(), n, nut.data());
    }
    else
    {
        mlcfd::TensorBasisClosure(file).computeStress(
            gradU.data(), delta.data(), nu.data(), n, nut.data(), tau.data());
    }
    for (std::size_t c = 0; c < n; ++c)
    {
        const double* A = gradU.data() + 9 * c;
        const double S[6] = {A[0], 0.5 * (A[1] + A[3]), 0.5 * (A[2] + A[6]), A[4], 0.5 * (A[5] + A[7]), A[8]};
        for (int k = 0; k < 6; ++k) tau[6 * c + k] -= 2 * nut[c] * S[k];
    }
    std::cout.precision(17);
    std::cout << "# nut tau_xx tau_xy tau_xz tau_yy tau_yz tau_zz\n";
    for (std::size_t c = 0; c < n; ++c)
    {
        std::cout << nut[c];
        for (int k = 0; k < 6; ++k) std::cout << ' ' << tau[6 * c + k];
        std::cout << '\n';
    }
    return 0;
}

int create(const std::string& which, const std::string& file, const std::vector<std::string>& args)
{
    if (which == "smagorinsky")
    {
        double Ck = 0.094, Ce = 1.048, B = 0;
        readNumber(args, "--Ck", Ck);
        readNumber(args, "--Ce", Ce);
        std::optional<double> regime;
        if (readNumber(args, "--regime", B)) regime = B;
        mlcfd::referenceModels::writeSmagorinsky(file, Ck, Ce, regime);
    }
    else if (which == "tensorBasisSmagorinsky")
    {
        double Ck = 0.094, Ce = 1.048, g2 = 0, B = 0;
        readNumber(args, "--Ck", Ck);
        readNumber(args, "--Ce", Ce);
        readNumber(args, "--g2", g2);
        std::optional<double> regime;
        if (readNumber(args, "--regime", B)) regime = B;
        mlcfd::referenceModels::writeTensorBasisSmagorinsky(file, g2, Ck, Ce, regime);
    }
    else if (which == "jacobi")
    {
        mlcfd::referenceModels::writeJacobi(file);
    }
    else if (which == "graphJacobi")
    {
        mlcfd::referenceModels::writeGraphJacobi(file);
    }
    else if (which == "gridJacobi2" || which == "gridJacobi3")
    {
        mlcfd::referenceModels::writeGridJacobi(file, which.back() - '0');
    }
    else
    {
        return fail("unknown reference model '" + which
                    + "' (smagorinsky, tensorBasisSmagorinsky,"
                      " jacobi, graphJacobi, gridJacobi2, gridJacobi3)");
    }
    std::cout << "wrote " << file << '\n';
    return 0;
}

bool hasFlag(const std::vector<std::string>& args, const std::string& name)
{
    return std::find(args.begin(), args.end(), name) != args.end();
}

// FlexibleCG with the model, then plain CG, on one dumped system.
int solve(const std::string& file, const std::string& systemFile, const std::vector<std::string>& args)
{
    mlcfd::CSRMatrix matrix;
    std::vector<double> rhs;
    mlcfd::readCSRSystem(systemFile, matrix, rhs);

    mlcfd::LearnedPreconditionerOptions options;
    const auto gridAt = std::find(args.begin(), args.end(), "--grid");
    for (auto it = gridAt == args.end() ? args.end() : gridAt + 1; it != args.end(); ++it)
    {
        if (it->rfind("--", 0) == 0) break;
        options.grid.push_back(std::stoll(*it));
    }
    mlcfd::FlexibleCGSettings settings;
    std::string value;
    readNumber(args, "--tolerance", settings.relativeTolerance);
    if (readOption(args, "--kept", value)) settings.keptDirections = std::stoul(value);
    if (readOption(args, "--max-iterations", value)) settings.maxIterations = std::stoul(value);
    settings.safeguard = !hasFlag(args, "--no-safeguard");
    settings.compareWithCG = !hasFlag(args, "--no-compare");

    const mlcfd::LearnedPreconditioner preconditioner(file, matrix, options);
    const auto A = [&matrix](const std::vector<double>& x, std::vector<double>& y)
    { matrix.multiply(x.data(), y.data()); };
    const auto M = [&preconditioner](const std::vector<double>& r, std::vector<double>& z)
    { preconditioner.apply(r, z); };
    const auto identity = [](const std::vector<double>& r, std::vector<double>& z) { z = r; };

    std::cout << "system " << systemFile << ": " << matrix.rows << " rows, " << matrix.nonzeros()
              << " nonzeros\n";
    std::vector<double> x(matrix.rows, 0.0);
    auto t0 = std::chrono::steady_clock::now();
    const mlcfd::FlexibleCGResult learned = mlcfd::FlexibleCG(settings).solve(A, M, rhs, x);
    const double learnedSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    mlcfd::FlexibleCGSettings plain = settings;
    plain.keptDirections = 1;
    plain.safeguard = false;
    plain.compareWithCG = false;
    std::vector<double> xCG(matrix.rows, 0.0);
    t0 = std::chrono::steady_clock::now();
    const mlcfd::FlexibleCGResult cg = mlcfd::FlexibleCG(plain).solve(A, identity, rhs, xCG);
    const double cgSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const auto report = [](const char* name, const mlcfd::FlexibleCGResult& result, double seconds)
    {
        std::cout << name << ": " << result.iterations << " iterations, relative residual "
                  << result.relativeResidual << (result.converged ? "" : " (NOT converged)") << ", "
                  << seconds << " s";
    };
    report("model", learned, learnedSeconds);
    std::cout << " (inference " << preconditioner.inferenceSeconds() << " s, " << learned.fallbacks
              << " useless outputs replaced by the residual, " << learned.cgSteps
              << " steps took the CG direction"
              << (learned.plainCG ? "; the safeguard's plain CG converged first" : "")
              << (learned.abandonedAt
                         ? "; network abandoned after iteration " + std::to_string(learned.abandonedAt)
                         : std::string())
              << ")\n";
    report("CG", cg, cgSeconds);
    std::cout << '\n';

    if (readOption(args, "--solution", value))
    {
        std::ofstream os(value);
        os.precision(17);
        for (double v : x) os << v << '\n';
        if (!os) throw std::runtime_error("cannot write '" + value + "'");
    }
    return learned.converged ? 0 : 3;
}

} // namespace

int main(int argc, char* argv[])
{
    const std::vector<std::string> args(argv + 1, argv + argc);
    try
    {
        if (args.size() >= 2 && args[0] == "inspect") return inspect(args[1]);
        if (args.size() >= 3 && args[0] == "check" && args[2].rfind("--", 0) != 0)
        {
            return checkData(args[1], args[2], args);
        }
        if (args.size() >= 2 && args[0] == "check") return check(args[1], args);
        if (args.size() >= 3 && args[0] == "closure") return closure(args[1], args[2]);
        if (args.size() >= 3 && args[0] == "create") return create(args[1], args[2], args);
        if (args.size() >= 3 && args[0] == "solve") return solve(args[1], args[2], args);
        if (!args.empty() && (args[0] == "-h" || args[0] == "--help"))
        {
            std::cout << usage;
            return 0;
        }
        return fail(args.empty() ? "no command given" : "cannot understand the arguments");
    }
    catch (const std::exception& e)
    {
        std::cerr << "mlcfd-model: " << e.what() << '\n';
        return 1;
    }
}
