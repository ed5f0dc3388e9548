#include "mlcfd/TrainingRange.h"
#include "mlcfd/ModelError.h"
#include "mlcfd/ModelMetadata.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace mlcfd
{

void RangeCount::add(const RangeCount& other)
{
    rows += other.rows;
    outside += other.outside;
    if (outsideByInput.size() < other.outsideByInput.size())
    {
        outsideByInput.resize(other.outsideByInput.size(), 0);
    }
    for (std::size_t i = 0; i < other.outsideByInput.size(); ++i)
    {
        outsideByInput[i] += other.outsideByInput[i];
    }
}

void RangeCount::clear()
{
    rows = 0;
    outside = 0;
    std::fill(outsideByInput.begin(), outsideByInput.end(), 0);
}

// Out-of-line definition for C++14 users (OpenFOAM's wmake) that bind it to
// a reference.
constexpr double RangeCheck::defaultMargin;

RangeCheck::RangeCheck(const ModelMetadata& metadata, double margin) : margin_(margin)
{
    const TrainingRange& range = metadata.trainingRange;
    if (range.empty()) return;
    if (!(margin >= 0))
    {
        throw std::invalid_argument("training-range margin must be >= 0, not " + std::to_string(margin));
    }
    const std::size_t n = metadata.inputCount();
    lower_.resize(n);
    upper_.resize(n);
    for (std::size_t i = 0; i < n; ++i)
    {
        // An input that is constant up to round-off in training (Uz of a 2D
        // case) has no width of its own: its normalisation scale stands in.
        double width = range.max[i] - range.min[i];
        if (i < metadata.inputStd.size()) width = std::max(width, metadata.inputStd[i]);
        lower_[i] = range.min[i] - margin * width;
        upper_[i] = range.max[i] + margin * width;
    }
    for (const std::string& name : range.unchecked)
    {
        const auto at = std::find(metadata.inputs.begin(), metadata.inputs.end(), name);
        if (at == metadata.inputs.end()) continue; // rejected when the metadata is read
        const std::size_t i = std::size_t(at - metadata.inputs.begin());
        lower_[i] = -std::numeric_limits<double>::infinity();
        upper_[i] = std::numeric_limits<double>::infinity();
    }
}

void RangeCheck::countRows(const double* values, std::size_t rows, RangeCount& count, std::size_t rowStride,
    std::size_t inputStride) const
{
    if (!active()) return;
    const std::size_t width = lower_.size();
    count.outsideByInput.resize(width, 0);
    count.rows += rows;
    for (std::size_t row = 0; row < rows; ++row)
    {
        const double* x = values + row * rowStride;
        bool strays = false;
        for (std::size_t i = 0; i < width; ++i)
        {
            if (outside(i, x[i * inputStride]))
            {
                ++count.outsideByInput[i];
                strays = true;
            }
        }
        count.outside += strays;
    }
}

RangeMonitorSettings::Action RangeMonitorSettings::parseAction(const std::string& word)
{
    if (word == "warn") return Action::warn;
    if (word == "stop") return Action::stop;
    throw std::invalid_argument("'" + word
                                + "' is not an action for inputs outside the"
                                  " training range; use warn or stop");
}

RangeMonitor::RangeMonitor(const RangeMonitorSettings& settings) : settings_(settings)
{
    if (settings_.interval == 0) settings_.interval = 1;
}

namespace
{

std::string percent(double fraction)
{
    char text[32];
    std::snprintf(text, sizeof text, fraction < 0.001 && fraction > 0 ? "%.2g%%" : "%.1f%%", 100 * fraction);
    return text;
}

std::string number(double value)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", value);
    return text;
}

// The input outside most often (the first one when none is).
std::size_t worstInput(const RangeCount& count)
{
    const auto& by = count.outsideByInput;
    return by.empty() ? 0 : std::size_t(std::max_element(by.begin(), by.end()) - by.begin());
}

std::string describeInput(const RangeCount& count, const RangeCheck& check, const ModelMetadata& metadata)
{
    const std::size_t i = worstInput(count);
    const TrainingRange& range = metadata.trainingRange;
    std::ostringstream os;
    os << "most often '" << metadata.inputs[i] << "' (" << count.outsideByInput[i] << " rows) outside ["
       << number(check.lower(i)) << ", " << number(check.upper(i)) << "] (trained on ["
       << number(range.min[i]) << ", " << number(range.max[i]) << "])";
    return os.str();
}

} // namespace

void RangeMonitor::step(const RangeCount& count, const RangeCheck& check, const ModelMetadata& metadata,
    const std::string& modelPath, std::size_t implausible)
{
    ++steps_;
    last_ = count;
    total_.add(count);
    const bool strays = count.outside > 0;
    const bool news = (strays && !strayedBefore_) || (implausible > 0 && !implausibleBefore_);
    log_ = steps_ == 1 || news
           || ((check.active() || implausible > 0) && steps_ - lastLogged_ >= settings_.interval);
    if (log_) lastLogged_ = steps_;
    strayedBefore_ = strayedBefore_ || strays;
    implausibleBefore_ = implausibleBefore_ || implausible > 0;

    if (settings_.action == RangeMonitorSettings::Action::stop && check.active()
        && count.fraction() > settings_.stopFraction)
    {
        throw ModelError(
            modelPath, percent(count.fraction()) + " of " + std::to_string(count.rows)
                           + " rows have inputs outside the training range, more than the "
                           + percent(settings_.stopFraction) + " allowed (stop mode); "
                           + describeInput(count, check, metadata)
                           + ". The run is outside what the model was trained on: use a model trained"
                             " for it, or allow more (warn mode, or a larger stop fraction; in OpenFOAM"
                             " the entries outOfRange and outOfRangeFraction)");
    }
}

std::string RangeMonitor::describe(const ModelMetadata& metadata, const RangeCheck& check) const
{
    if (!check.active())
    {
        return "no training range recorded in the model file: inputs not checked";
    }
    std::ostringstream os;
    if (last_.outside == 0)
    {
        os << "all " << last_.rows << " rows inside the training range (margin " << percent(check.margin())
           << ")";
    }
    else
    {
        os << percent(last_.fraction()) << " of " << last_.rows << " rows outside the training range (margin "
           << percent(check.margin()) << "); " << describeInput(last_, check, metadata);
    }
    return os.str();
}

} // namespace mlcfd
