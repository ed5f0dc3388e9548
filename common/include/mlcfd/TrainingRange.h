// mlcfd: the inputs a model was trained on, and how far a run strays from them.
#ifndef MLCFD_TRAINING_RANGE_H
#define MLCFD_TRAINING_RANGE_H

#include <cstddef>
#include <string>
#include <vector>

namespace mlcfd
{

struct ModelMetadata;

/// Per input, the distribution of the training data as the trainer recorded
/// it in the model file (metadata entry "training_range", format version 2):
/// @code{.json}
/// "training_range": { "rows": 1048576,
///                     "min": [...], "max": [...],
///                     "quantiles": { "0.001": [...], "0.5": [...], "0.999": [...] },
///                     "unchecked": ["trS"] }
/// @endcode
/// Values are in the model's input units (before input_mean/input_std), one
/// per input in input order. "unchecked" (optional) names inputs the network
/// ignores: they are recorded but never counted as outside. Files without the entry (all of format version
/// 1) have an empty range: nothing is checked and nothing is reported.
struct TrainingRange
{
    std::size_t rows = 0;
    std::vector<double> min, max;
    /// Quantile levels in (0, 1), ascending, and the values at each level.
    std::vector<double> levels;
    std::vector<std::vector<double>> quantiles;
    /// Inputs the network ignores (not checked).
    std::vector<std::string> unchecked;

    bool empty() const { return min.empty(); }
};

/// Rows counted against a training range since the last reset.
struct RangeCount
{
    /// Rows checked.
    std::size_t rows = 0;
    /// Rows with at least one input outside the range (and its margin).
    std::size_t outside = 0;
    /// Per input: rows where that input is outside.
    std::vector<std::size_t> outsideByInput;

    double fraction() const { return rows ? double(outside) / double(rows) : 0.0; }
    void add(const RangeCount& other);
    void clear();
};

/// Counts rows whose inputs leave the training range by more than a margin.
///
/// Input i is outside when it is below min_i - m w_i or above max_i + m w_i,
/// with m the margin (a fraction) and w_i = max(max_i - min_i, input_std_i)
/// (the normalisation scale stands in for inputs constant up to round-off);
/// unchecked inputs are never outside. The
/// check is one comparison pair per value and runs on every evaluation.
class RangeCheck
{
public:
    /// Default margin: 10% of each input's training range.
    static constexpr double defaultMargin = 0.1;

    RangeCheck() = default;
    RangeCheck(const ModelMetadata& metadata, double margin = defaultMargin);

    /// False for models without a recorded range.
    bool active() const { return !lower_.empty(); }
    double margin() const { return margin_; }
    double lower(std::size_t input) const { return lower_[input]; }
    double upper(std::size_t input) const { return upper_[input]; }

    /// Whether @p value of input @p input is outside.
    bool outside(std::size_t input, double value) const
    {
        return value < lower_[input] || value > upper_[input];
    }

    /// Count @p rows rows into @p count: input i of row r is
    /// values[r*rowStride + i*inputStride] (row-major rows: rowStride =
    /// inputCount, inputStride = 1; channel planes: rowStride = 1,
    /// inputStride = rows).
    void countRows(const double* values, std::size_t rows, RangeCount& count, std::size_t rowStride,
        std::size_t inputStride = 1) const;

private:
    double margin_ = defaultMargin;
    std::vector<double> lower_, upper_;
};

/// What a run does once it strays from the training range.
struct RangeMonitorSettings
{
    enum class Action
    {
        warn,
        stop
    };
    Action action = Action::warn;
    /// stop: fraction of rows outside (in one report) above which to stop.
    double stopFraction = 0.1;
    /// Report at most every this many steps (and on the first stray step).
    unsigned interval = 10;

    /// "warn" or "stop"; anything else throws std::invalid_argument naming
    /// the accepted words.
    static Action parseAction(const std::string& word);
};

/// The report an adaptor writes for a model at each step: the rows outside
/// the training range since the last step, the decision to log it, and the
/// stop. Adaptors add their own plausibility counts to the same line.
class RangeMonitor
{
public:
    explicit RangeMonitor(const RangeMonitorSettings& settings = RangeMonitorSettings());

    const RangeMonitorSettings& settings() const { return settings_; }

    /// Take one step's counts and the adaptor's count of implausible outputs
    /// (e.g. cells with an eddy viscosity beyond a bound; 0 if it has none).
    /// Throws ModelError (naming @p modelPath, the input that strays most
    /// often and its range) in stop mode when the fraction outside exceeds
    /// the threshold.
    void step(const RangeCount& count, const RangeCheck& check, const ModelMetadata& metadata,
        const std::string& modelPath, std::size_t implausible = 0);

    /// Whether this step's report should go to the log: the first step, the
    /// first step that strays or is implausible, and then every interval-th
    /// step while there is something to check.
    bool logThisStep() const { return log_; }

    /// One line for the log, e.g. "3.1% of 32768 rows outside the training
    /// range (margin 10%); most often 'trW2' (1017 rows) outside [-0.52, 0]"
    /// or "all 32768 rows inside the training range".
    std::string describe(const ModelMetadata& metadata, const RangeCheck& check) const;

    const RangeCount& last() const { return last_; }
    /// Totals over all steps.
    const RangeCount& total() const { return total_; }
    std::size_t steps() const { return steps_; }

private:
    RangeMonitorSettings settings_;
    RangeCount last_, total_;
    std::size_t steps_ = 0, lastLogged_ = 0;
    bool strayedBefore_ = false, implausibleBefore_ = false, log_ = false;
};

} // namespace mlcfd

#endif
