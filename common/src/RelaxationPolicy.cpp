#include "mlcfd/RelaxationPolicy.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace mlcfd
{

namespace
{

const char* const stateHeader = "mlcfd-relaxation-policy";
// 2: the running cost sum replaced the largest cost (loss scale).
constexpr int stateVersion = 2;

void expectWord(std::istream& is, const std::string& word)
{
    std::string found;
    is >> found;
    if (!is || found != word)
    {
        throw std::runtime_error(
            "relaxation policy state: expected '" + word + "' but found '" + found + "'");
    }
}

template<typename T> void readVector(std::istream& is, const std::string& label, std::vector<T>& v)
{
    expectWord(is, label);
    std::size_t n = 0;
    is >> n;
    v.assign(n, T());
    for (T& x : v) is >> x;
    if (!is) throw std::runtime_error("relaxation policy state: truncated '" + label + "'");
}

template<typename T> void writeVector(std::ostream& os, const std::string& label, const std::vector<T>& v)
{
    os << label << ' ' << v.size();
    for (const T& x : v) os << ' ' << x;
    os << '\n';
}

// The arm with the smallest value(arm) (the first of equals).
template<typename Value> std::size_t bestArm(std::size_t arms, Value value)
{
    std::size_t best = 0;
    double bestValue = std::numeric_limits<double>::infinity();
    for (std::size_t a = 0; a < arms; ++a)
    {
        const double v = value(a);
        if (v < bestValue)
        {
            bestValue = v;
            best = a;
        }
    }
    return best;
}

// T_0..T_degree at z in [-1, 1].
std::vector<double> chebyshev(double z, std::size_t degree)
{
    std::vector<double> T(degree + 1, 1.0);
    if (degree > 0) T[1] = z;
    for (std::size_t i = 2; i <= degree; ++i) T[i] = 2 * z * T[i - 1] - T[i - 2];
    return T;
}

// @p x mapped from [lo, hi] to [-1, 1] (clamped).
double toUnit(double x, double lo, double hi)
{
    return hi > lo ? std::clamp(2 * (x - lo) / (hi - lo) - 1, -1.0, 1.0) : 0.0;
}

// Lower Cholesky factor of the n x n symmetric positive definite A.
std::vector<double> cholesky(const double* A, std::size_t n)
{
    std::vector<double> L(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j <= i; ++j)
        {
            double s = A[i * n + j];
            for (std::size_t k = 0; k < j; ++k) s -= L[i * n + k] * L[j * n + k];
            L[i * n + j] = (i == j) ? std::sqrt(s) : s / L[j * n + j];
        }
    return L;
}

// x = (L L^T)^-1 rhs.
std::vector<double> choleskySolve(const std::vector<double>& L, std::size_t n, std::vector<double> x)
{
    for (std::size_t i = 0; i < n; ++i)
    {
        for (std::size_t k = 0; k < i; ++k) x[i] -= L[i * n + k] * x[k];
        x[i] /= L[i * n + i];
    }
    for (std::size_t i = n; i-- > 0;)
    {
        for (std::size_t k = i + 1; k < n; ++k) x[i] -= L[k * n + i] * x[k];
        x[i] /= L[i * n + i];
    }
    return x;
}

/// The same omega for every solve (a baseline).
class FixedPolicy : public RelaxationPolicy
{
public:
    explicit FixedPolicy(const RelaxationSettings& s) : RelaxationPolicy(s) { omegas_ = {s.omega}; }
    std::string name() const override { return "fixed"; }

protected:
    std::size_t chooseArm(double) override { return 0; }
    void learn(std::size_t, double, double, double) override {}
    void writeState(std::ostream&) const override {}
    void readState(std::istream&) override {}
};

/// Each arm once, then the best mean loss, with a random arm with
/// probability epsilon (a baseline).
class EpsilonGreedyPolicy : public RelaxationPolicy
{
public:
    explicit EpsilonGreedyPolicy(const RelaxationSettings& s)
        : RelaxationPolicy(s), count_(omegas_.size(), 0), sum_(omegas_.size(), 0.0)
    {
    }
    std::string name() const override { return "epsilonGreedy"; }

protected:
    std::size_t chooseArm(double) override
    {
        const std::size_t k = omegas_.size();
        for (std::size_t a = 0; a < k; ++a)
        {
            if (count_[a] == 0) return a;
        }
        if (uniform() < settings_.epsilon)
        {
            return std::min(k - 1, static_cast<std::size_t>(uniform() * k));
        }
        std::size_t best = 0;
        for (std::size_t a = 1; a < k; ++a)
        {
            if (sum_[a] / count_[a] < sum_[best] / count_[best]) best = a;
        }
        return best;
    }
    // Mean cost (not loss): the scale may change as costs arrive.
    void learn(std::size_t arm, double, double cost, double) override
    {
        ++count_[arm];
        sum_[arm] += cost;
    }
    void writeState(std::ostream& os) const override
    {
        writeVector(os, "count", count_);
        writeVector(os, "sum", sum_);
    }
    void readState(std::istream& is) override
    {
        readVector(is, "count", count_);
        readVector(is, "sum", sum_);
    }

private:
    std::vector<std::size_t> count_;
    std::vector<double> sum_;
};

/// Tsallis-INF with alpha = 1/2 (Zimmert & Seldin, JMLR 2021), as used in
/// "Learning to Relax" and PCGBandit: p_i = 4 (eta_t (Lhat_i - x))^-2 with
/// eta_t = eta_0/sqrt(t) and x normalising p, and the reduced-variance loss
/// estimates Lhat_i += 1[i played] (l - B_i)/p_i + B_i with B_i = 1/2 where
/// p_i >= eta_t^2 (else 0). Regret against the best fixed arm: at most
/// 4 sqrt(K T) + 1.
class TsallisInfPolicy : public RelaxationPolicy
{
public:
    explicit TsallisInfPolicy(const RelaxationSettings& s)
        : RelaxationPolicy(s), lossEstimate_(omegas_.size(), 0.0),
          probability_(omegas_.size(), 1.0 / omegas_.size())
    {
    }
    std::string name() const override { return "tsallisInf"; }

protected:
    std::size_t chooseArm(double) override
    {
        eta_ = settings_.learningRate / std::sqrt(static_cast<double>(rounds_ + 1));
        updateProbabilities();
        double u = uniform(), cumulative = 0;
        for (std::size_t a = 0; a < probability_.size(); ++a)
        {
            cumulative += probability_[a];
            if (u < cumulative) return a;
        }
        return probability_.size() - 1;
    }
    void learn(std::size_t arm, double loss, double, double) override
    {
        for (std::size_t a = 0; a < lossEstimate_.size(); ++a)
        {
            const double baseline = probability_[a] >= eta_ * eta_ ? 0.5 : 0.0;
            lossEstimate_[a] += baseline + (a == arm ? (loss - baseline) / probability_[a] : 0.0);
        }
    }
    void writeState(std::ostream& os) const override
    {
        writeVector(os, "lossEstimate", lossEstimate_);
        writeVector(os, "probability", probability_);
    }
    void readState(std::istream& is) override
    {
        readVector(is, "lossEstimate", lossEstimate_);
        readVector(is, "probability", probability_);
    }

private:
    // Newton's method on f(x) = sum_i 4/(eta (L_i - x))^2 - 1, x < min L_i,
    // started where the leading arm alone has p = 1 (f >= 0, f convex and
    // increasing: the iterates decrease monotonically to the root).
    void updateProbabilities()
    {
        const double eta = eta_;
        const double minLoss = *std::min_element(lossEstimate_.begin(), lossEstimate_.end());
        double x = minLoss - 2.0 / eta;
        for (int iter = 0; iter < 100; ++iter)
        {
            double sum = 0, derivative = 0;
            for (double L : lossEstimate_)
            {
                const double w = 1.0 / (eta * (L - x));
                sum += 4 * w * w;
                derivative += 8 * w * w * w * eta;
            }
            const double step = (sum - 1) / derivative;
            x -= step;
            if (std::abs(step) < 1e-14 * (1 + std::abs(x))) break;
        }
        double total = 0;
        for (std::size_t a = 0; a < lossEstimate_.size(); ++a)
        {
            const double w = 1.0 / (eta * (lossEstimate_[a] - x));
            probability_[a] = 4 * w * w;
            total += probability_[a];
        }
        for (double& p : probability_) p /= total;
    }

    std::vector<double> lossEstimate_;
    std::vector<double> probability_;
    // Step size of the last choice (the baseline's threshold in learn()).
    double eta_ = 1;
};

/// Thompson sampling on independent arms: the log(cost) of each arm is
/// Gaussian, with its own mean and a noise common to all arms. Each arm is
/// played once, in order; then the arm whose mean, sampled from its
/// posterior, is smallest. Knows nothing of an order of the arms, so it
/// suits named choices (solver configurations) as well as omegas; unlike
/// tsallisInf it abandons an arm that is clearly worse after a few solves,
/// as the gaps between configurations (10-30% in time) need.
class GaussianTSPolicy : public RelaxationPolicy
{
public:
    explicit GaussianTSPolicy(const RelaxationSettings& s)
        : RelaxationPolicy(s), played_(omegas_.size(), 0), weight_(omegas_.size(), 0.0),
          sum_(omegas_.size(), 0.0), sumSquares_(omegas_.size(), 0.0)
    {
        if (s.memory < 0 || (s.memory > 0 && s.memory < 1))
        {
            throw std::invalid_argument("gaussianTS: memory must be 0 (never forget) or at least 1 solve");
        }
    }
    std::string name() const override { return "gaussianTS"; }

protected:
    std::size_t chooseArm(double) override
    {
        const std::size_t k = omegas_.size();
        for (std::size_t a = 0; a < k; ++a)
        {
            if (played_[a] == 0) return a;
        }
        // Noise: the pooled spread of each arm about its own mean, with a
        // weak prior of 0.1 (10% in cost) worth 2 solves.
        double residual = 2 * 0.01, dof = 2;
        for (std::size_t a = 0; a < k; ++a)
        {
            if (weight_[a] <= 0) continue;
            residual += std::max(0.0, sumSquares_[a] - sum_[a] * sum_[a] / weight_[a]);
            dof += std::max(0.0, weight_[a] - 1);
        }
        const double sigma = sampleScale(0.5) * std::sqrt(residual / dof);
        return bestArm(k,
            [&](std::size_t a)
            {
                // A forgotten arm (weight near 0) samples from a wide posterior.
                const double w = std::max(weight_[a], 1e-3);
                return sum_[a] / w + sigma / std::sqrt(w) * normal();
            });
    }
    void learn(std::size_t arm, double, double cost, double) override
    {
        if (settings_.memory > 0)
        {
            const double keep = 1 - 1 / settings_.memory;
            for (std::size_t a = 0; a < weight_.size(); ++a)
            {
                weight_[a] *= keep;
                sum_[a] *= keep;
                sumSquares_[a] *= keep;
            }
        }
        // Relative to the running level of log(cost) over the last few
        // solves: a trend all arms share (a start-up transient, a flow that
        // slows down) is not blamed on the arm that happened to be played.
        const double logCost = std::log(std::max(cost, 1e-300));
        const double y = logCost - level_;
        level_ += (logCost - level_) / std::min<double>(static_cast<double>(rounds_ + 1), 5);
        ++played_[arm];
        weight_[arm] += 1;
        sum_[arm] += y;
        sumSquares_[arm] += y * y;
    }
    void writeState(std::ostream& os) const override
    {
        writeVector(os, "played", played_);
        writeVector(os, "weight", weight_);
        writeVector(os, "sum", sum_);
        writeVector(os, "sumSquares", sumSquares_);
        os << "level " << level_ << '\n';
    }
    void readState(std::istream& is) override
    {
        readVector(is, "played", played_);
        readVector(is, "weight", weight_);
        readVector(is, "sum", sum_);
        readVector(is, "sumSquares", sumSquares_);
        expectWord(is, "level");
        is >> level_;
        const std::size_t k = omegas_.size();
        if (played_.size() != k || weight_.size() != k || sum_.size() != k || sumSquares_.size() != k)
        {
            throw std::runtime_error("gaussianTS state: sizes do not match the settings");
        }
    }

private:
    std::vector<std::size_t> played_;
    std::vector<double> weight_, sum_, sumSquares_;
    double level_ = 0;
};

/// Contextual: per-arm ridge regression of log(cost) on Chebyshev
/// polynomials of the context, with a lower confidence bound for
/// exploration (after the paper's ChebCB).
class ChebCBPolicy : public RelaxationPolicy
{
public:
    explicit ChebCBPolicy(const RelaxationSettings& s)
        : RelaxationPolicy(s), nFeatures_(static_cast<std::size_t>(std::max(0, s.degree)) + 1),
          gram_(omegas_.size() * nFeatures_ * nFeatures_, 0.0), moment_(omegas_.size() * nFeatures_, 0.0)
    {
        if (!(s.contextMax > s.contextMin))
        {
            throw std::invalid_argument("chebCB: contextMax must exceed contextMin");
        }
        for (std::size_t a = 0; a < omegas_.size(); ++a)
            for (std::size_t i = 0; i < nFeatures_; ++i)
                gram_[(a * nFeatures_ + i) * nFeatures_ + i] = s.ridge;
    }
    std::string name() const override { return "chebCB"; }

protected:
    std::size_t chooseArm(double context) override
    {
        const std::vector<double> phi = features(context);
        std::vector<double> theta, Ainv_phi;
        return bestArm(omegas_.size(),
            [&](std::size_t a)
            {
                solve(a, moment(a), theta);
                solve(a, phi, Ainv_phi);
                double mean = 0, variance = 0;
                for (std::size_t i = 0; i < nFeatures_; ++i)
                {
                    mean += theta[i] * phi[i];
                    variance += phi[i] * Ainv_phi[i];
                }
                return mean - settings_.confidence * std::sqrt(std::max(0.0, variance));
            });
    }
    // The target is log(cost): iteration counts vary by orders of magnitude
    // between contexts and change multiplicatively with omega, so in log
    // units one polynomial fits all contexts and the confidence width is a
    // relative one (0.1: about 10%).
    void learn(std::size_t arm, double, double cost, double context) override
    {
        const double target = std::log(std::max(cost, 1.0));
        const std::vector<double> phi = features(context);
        for (std::size_t i = 0; i < nFeatures_; ++i)
        {
            moment_[arm * nFeatures_ + i] += phi[i] * target;
            for (std::size_t j = 0; j < nFeatures_; ++j)
                gram_[(arm * nFeatures_ + i) * nFeatures_ + j] += phi[i] * phi[j];
        }
    }
    void writeState(std::ostream& os) const override
    {
        writeVector(os, "gram", gram_);
        writeVector(os, "moment", moment_);
    }
    void readState(std::istream& is) override
    {
        readVector(is, "gram", gram_);
        readVector(is, "moment", moment_);
        if (gram_.size() != omegas_.size() * nFeatures_ * nFeatures_
            || moment_.size() != omegas_.size() * nFeatures_)
        {
            throw std::runtime_error("chebCB state: sizes do not match the settings");
        }
    }

private:
    std::vector<double> features(double context) const
    {
        return chebyshev(toUnit(context, settings_.contextMin, settings_.contextMax), nFeatures_ - 1);
    }
    std::vector<double> moment(std::size_t arm) const
    {
        return std::vector<double>(
            moment_.begin() + arm * nFeatures_, moment_.begin() + (arm + 1) * nFeatures_);
    }
    // x = A_arm^-1 rhs (A is symmetric positive definite).
    void solve(std::size_t arm, const std::vector<double>& rhs, std::vector<double>& x) const
    {
        x = choleskySolve(cholesky(&gram_[arm * nFeatures_ * nFeatures_], nFeatures_), nFeatures_, rhs);
    }

    std::size_t nFeatures_;
    std::vector<double> gram_;
    std::vector<double> moment_;
};

/// One model of log(cost) for all arms: Bayesian ridge regression on the
/// tensor Chebyshev basis T_i(omega) T_j(context) (i <= omegaDegree,
/// j <= degree), arms chosen by Thompson sampling. Costs are smooth in omega,
/// so every solve informs the neighbouring arms too, where per-arm
/// statistics (tsallisInf, chebCB) must try each arm on its own.
class ChebTSPolicy : public RelaxationPolicy
{
public:
    explicit ChebTSPolicy(const RelaxationSettings& s)
        : RelaxationPolicy(s), omegaTerms_(static_cast<std::size_t>(std::max(0, s.omegaDegree)) + 1),
          contextTerms_(static_cast<std::size_t>(std::max(0, s.degree)) + 1), n_(omegaTerms_ * contextTerms_),
          gram_(n_ * n_, 0.0), moment_(n_, 0.0)
    {
        if (s.degree > 0 && !(s.contextMax > s.contextMin))
        {
            throw std::invalid_argument("chebTS: contextMax must exceed contextMin (or degree 0)");
        }
        if (!(s.ridge > 0))
        {
            throw std::invalid_argument("chebTS: ridge must be > 0");
        }
        // Prior N(priorMean, sigma^2 diag(priorPrecision)^-1): ridge on every
        // coefficient, and a bowl in omega (coefficient of T_2(omega)
        // T_0(context)), so that the first solves try the middle of the
        // range rather than the ends a linear sample would pick.
        priorPrecision_.assign(n_, s.ridge);
        priorMean_.assign(n_, 0.0);
        if (omegaTerms_ > 2)
        {
            const std::size_t bowl = 2 * contextTerms_;
            priorPrecision_[bowl] += s.priorWeight;
            priorMean_[bowl] = s.priorCurvature;
        }
        for (std::size_t i = 0; i < n_; ++i)
        {
            gram_[i * n_ + i] = priorPrecision_[i];
            moment_[i] = priorPrecision_[i] * priorMean_[i];
        }
    }
    std::string name() const override { return "chebTS"; }

protected:
    std::size_t chooseArm(double context) override
    {
        // theta ~ N(A^-1 b, sigma^2 A^-1): theta = mean + sigma L^-T z.
        const std::vector<double> L = cholesky(gram_.data(), n_);
        const std::vector<double> mean = choleskySolve(L, n_, moment_);
        std::vector<double> z(n_);
        for (double& x : z) x = normal();
        for (std::size_t i = n_; i-- > 0;)
        {
            for (std::size_t k = i + 1; k < n_; ++k) z[i] -= L[k * n_ + i] * z[k];
            z[i] /= L[i * n_ + i];
        }
        // Weighted residual sum of squares of the data alone:
        // sum w y^2 - 2 theta.(b - P m) + theta.(G - P) theta (P, m: prior).
        double fitted = sumSquares_;
        for (std::size_t i = 0; i < n_; ++i)
        {
            double Gtheta = 0;
            for (std::size_t j = 0; j < n_; ++j) Gtheta += gram_[i * n_ + j] * mean[j];
            fitted += mean[i] * (Gtheta - priorPrecision_[i] * mean[i])
                      - 2 * mean[i] * (moment_[i] - priorPrecision_[i] * priorMean_[i]);
        }
        // Noise variance: weak prior of 0.05^2 (5% in cost) worth 2 solves.
        const double sigma =
            sampleScale(0.5) * std::sqrt((std::max(fitted, 0.0) + 2 * 0.0025) / (count_ + 2));
        return bestArm(omegas_.size(),
            [&](std::size_t a)
            {
                const std::vector<double> phi = features(omegas_[a], context);
                double value = 0;
                for (std::size_t i = 0; i < n_; ++i) value += phi[i] * (mean[i] + sigma * z[i]);
                return value;
            });
    }
    // Weighted by cost/(running mean): the fit of log(cost) then favours
    // the arms that are good on the expensive solves, which make up the
    // total (an unweighted fit minimises the geometric mean instead).
    void learn(std::size_t arm, double, double cost, double context) override
    {
        const double y = std::log(std::max(cost, 1.0));
        const double w = costSum_ > 0 ? cost * static_cast<double>(rounds_ + 1) / costSum_ : 1.0;
        const std::vector<double> phi = features(omegas_[arm], context);
        for (std::size_t i = 0; i < n_; ++i)
        {
            moment_[i] += w * phi[i] * y;
            for (std::size_t j = 0; j < n_; ++j) gram_[i * n_ + j] += w * phi[i] * phi[j];
        }
        sumSquares_ += w * y * y;
        ++count_;
    }
    void writeState(std::ostream& os) const override
    {
        writeVector(os, "gram", gram_);
        writeVector(os, "moment", moment_);
        os << "sumSquares " << sumSquares_ << " count " << count_ << '\n';
    }
    void readState(std::istream& is) override
    {
        readVector(is, "gram", gram_);
        readVector(is, "moment", moment_);
        expectWord(is, "sumSquares");
        is >> sumSquares_;
        expectWord(is, "count");
        is >> count_;
        if (!is || gram_.size() != n_ * n_ || moment_.size() != n_)
        {
            throw std::runtime_error("chebTS state: sizes do not match the settings");
        }
    }

private:
    std::vector<double> features(double omega, double context) const
    {
        const std::vector<double> w =
            chebyshev(toUnit(omega, settings_.omegaMin, settings_.omegaMax), omegaTerms_ - 1);
        const std::vector<double> c =
            chebyshev(toUnit(context, settings_.contextMin, settings_.contextMax), contextTerms_ - 1);
        std::vector<double> phi(n_);
        for (std::size_t i = 0; i < omegaTerms_; ++i)
            for (std::size_t j = 0; j < contextTerms_; ++j) phi[i * contextTerms_ + j] = w[i] * c[j];
        return phi;
    }

    std::size_t omegaTerms_, contextTerms_, n_;
    std::vector<double> priorPrecision_, priorMean_;
    std::vector<double> gram_;
    std::vector<double> moment_;
    double sumSquares_ = 0;
    std::size_t count_ = 0;
};

/// Log(cost) over (omega, context) as a Gaussian process: prior mean the
/// running mean of log(cost) plus the bowl of priorCurvature, a separable
/// squared-exponential kernel (lengthOmega, lengthContext, unit variance),
/// the solves weighted by cost as in chebTS; arms chosen by Thompson
/// sampling. Where chebTS's polynomial cannot follow the kink of the cost at
/// the best omega as it moves with the context, the process fits it locally
/// (measured: bench/results/sor_bandit_policies.md).
class GaussianProcessTSPolicy : public RelaxationPolicy
{
public:
    explicit GaussianProcessTSPolicy(const RelaxationSettings& s)
        : RelaxationPolicy(s), contextual_(s.degree > 0),
          noise_(s.noise > 0 ? s.noise : (contextual_ ? 0.05 : 0.6)),
          capacity_(static_cast<std::size_t>(std::max(0, s.maxPoints)))
    {
        if (contextual_ && !(s.contextMax > s.contextMin))
        {
            throw std::invalid_argument("gaussianProcessTS: contextMax must exceed contextMin (or degree 0)");
        }
        if (!(s.lengthOmega > 0) || !(s.lengthContext > 0) || s.noise < 0)
        {
            throw std::invalid_argument("gaussianProcessTS: lengthOmega and lengthContext must be > 0,"
                                        " noise >= 0 (0: the default)");
        }
        // Merging needs two solves of one arm.
        if (capacity_ < 2 * omegas_.size() + 2)
        {
            throw std::invalid_argument("gaussianProcessTS: maxPoints must be at least 2 arms + 2 = "
                                        + std::to_string(2 * omegas_.size() + 2));
        }
        factor_.assign(capacity_ * capacity_, 0.0);
        const std::size_t k = omegas_.size();
        omegaKernel_.resize(k * k);
        for (std::size_t a = 0; a < k; ++a)
            for (std::size_t b = 0; b < k; ++b)
            {
                const double d = (unitOmega(a) - unitOmega(b)) / s.lengthOmega;
                omegaKernel_[a * k + b] = std::exp(-0.5 * d * d);
            }
    }
    std::string name() const override { return "gaussianProcessTS"; }

protected:
    std::size_t chooseArm(double context) override
    {
        const std::size_t k = omegas_.size(), n = points_.size();
        const double zc = contextOf(context);
        // alpha = L^-1 (y - prior), v_a = L^-1 k(points, x_a): the posterior
        // at the arms is prior + v.alpha, covariance k(x_a, x_b) - v_a.v_b.
        std::vector<double> alpha(n);
        for (std::size_t i = 0; i < n; ++i) alpha[i] = points_[i].y - priorMean(points_[i].arm);
        forward(alpha);
        // v is n x k, row i holding point i's entries for all arms, so that
        // the k forward substitutions share each pass over the factor.
        std::vector<double> v(n * k), mean(k), cov(k * k);
        for (std::size_t i = 0; i < n; ++i)
        {
            double* vi = &v[i * k];
            const double dc = (points_[i].context - zc) / settings_.lengthContext;
            const double contextPart = std::exp(-0.5 * dc * dc);
            const double* omegaPart = &omegaKernel_[points_[i].arm * k];
            for (std::size_t a = 0; a < k; ++a) vi[a] = omegaPart[a] * contextPart;
            const double* Li = &factor_[i * capacity_];
            for (std::size_t j = 0; j < i; ++j)
            {
                const double* vj = &v[j * k];
                for (std::size_t a = 0; a < k; ++a) vi[a] -= Li[j] * vj[a];
            }
            for (std::size_t a = 0; a < k; ++a) vi[a] /= Li[i];
        }
        for (std::size_t a = 0; a < k; ++a)
        {
            mean[a] = priorMean(a);
            for (std::size_t b = 0; b <= a; ++b) cov[a * k + b] = omegaKernel_[a * k + b];
        }
        for (std::size_t i = 0; i < n; ++i)
        {
            const double* vi = &v[i * k];
            for (std::size_t a = 0; a < k; ++a)
            {
                mean[a] += vi[a] * alpha[i];
                for (std::size_t b = 0; b <= a; ++b) cov[a * k + b] -= vi[a] * vi[b];
            }
        }
        for (std::size_t a = 0; a < k; ++a)
            for (std::size_t b = 0; b < a; ++b) cov[b * k + a] = cov[a * k + b];
        // f = mean + scale C^(1/2) z, C's factor clamped where round-off
        // leaves it semi-definite (arms the data pin down).
        const std::vector<double> C = semidefiniteCholesky(cov, k);
        std::vector<double> z(k);
        for (double& x : z) x = normal();
        const double scale = sampleScale(0.25);
        return bestArm(k,
            [&](std::size_t a)
            {
                double f = mean[a];
                for (std::size_t b = 0; b <= a; ++b) f += scale * C[a * k + b] * z[b];
                return f;
            });
    }
    void learn(std::size_t a, double, double cost, double context) override
    {
        const double y = std::log(std::max(cost, 1.0));
        const double w = costSum_ > 0 ? cost * static_cast<double>(rounds_ + 1) / costSum_ : 1.0;
        logSum_ += y;
        const Point p{a, contextOf(context), y, w};
        // A solve at a point already held is one observation of the summed
        // weight (exact for the process); without a context, every arm is
        // then one point and a decision costs microseconds.
        for (std::size_t i = 0; i < points_.size(); ++i)
        {
            Point& q = points_[i];
            if (q.arm == p.arm && q.context == p.context)
            {
                q.y = (q.weight * q.y + w * y) / (q.weight + w);
                q.weight += w;
                refactorFrom(i); // rows before i do not depend on point i
                return;
            }
        }
        points_.push_back(p);
        appendRow();
        if (points_.size() == capacity_)
        {
            merge(capacity_ - capacity_ / 4);
            refactor();
        }
    }
    void writeState(std::ostream& os) const override
    {
        os << "logSum " << logSum_ << " points " << points_.size();
        for (const Point& p : points_)
            os << ' ' << p.arm << ' ' << p.context << ' ' << p.y << ' ' << p.weight;
        os << '\n';
    }
    void readState(std::istream& is) override
    {
        expectWord(is, "logSum");
        is >> logSum_;
        expectWord(is, "points");
        std::size_t n = 0;
        is >> n;
        if (!is || n >= capacity_)
        {
            throw std::runtime_error("gaussianProcessTS state: more points than maxPoints of the settings");
        }
        points_.assign(n, Point());
        for (Point& p : points_) is >> p.arm >> p.context >> p.y >> p.weight;
        if (!is) throw std::runtime_error("gaussianProcessTS state: truncated 'points'");
        for (const Point& p : points_)
        {
            if (p.arm >= omegas_.size() || !(p.weight > 0))
            {
                throw std::runtime_error("gaussianProcessTS state: a point of another arm or no weight");
            }
        }
        // The factor is rebuilt row by row, as it was grown: the same bits.
        refactor();
    }

private:
    struct Point
    {
        std::size_t arm;
        double context, y, weight; // context in [-1, 1]
    };

    double unitOmega(std::size_t a) const
    {
        return toUnit(omegas_[a], settings_.omegaMin, settings_.omegaMax);
    }
    double contextOf(double c) const
    {
        return contextual_ ? toUnit(c, settings_.contextMin, settings_.contextMax) : 0.0;
    }
    // The bowl of chebTS, priorCurvature T_2(omega), on the running mean.
    double priorMean(std::size_t a) const
    {
        const double level = rounds_ > 0 ? logSum_ / static_cast<double>(rounds_) : 0.0;
        const double z = unitOmega(a);
        return level + settings_.priorCurvature * (2 * z * z - 1);
    }
    double kernel(const Point& p, const Point& q) const
    {
        const double dc = (p.context - q.context) / settings_.lengthContext;
        return omegaKernel_[p.arm * omegas_.size() + q.arm] * std::exp(-0.5 * dc * dc);
    }
    // x = L^-1 x over the first @p n rows.
    void forward(double* x, std::size_t n) const
    {
        for (std::size_t i = 0; i < n; ++i)
        {
            for (std::size_t j = 0; j < i; ++j) x[i] -= factor_[i * capacity_ + j] * x[j];
            x[i] /= factor_[i * capacity_ + i];
        }
    }
    void forward(std::vector<double>& x) const { forward(x.data(), x.size()); }
    // Row n of the lower Cholesky factor of K + diag(noise^2/weight) for the
    // last point, given rows 0..n-1 (what a whole factorisation computes).
    void appendRow()
    {
        const std::size_t n = points_.size() - 1;
        const Point& p = points_[n];
        double* row = &factor_[n * capacity_];
        for (std::size_t j = 0; j < n; ++j) row[j] = kernel(points_[j], p);
        forward(row, n);
        double d = 1.0 + noise_ * noise_ / p.weight;
        for (std::size_t j = 0; j < n; ++j) d -= row[j] * row[j];
        row[n] = std::sqrt(std::max(d, 1e-12));
    }
    // Rows @p first onwards rebuilt as they were grown: the same bits as a
    // whole factorisation, at the cost of the rows that changed.
    void refactorFrom(std::size_t first)
    {
        const std::vector<Point> tail(points_.begin() + std::ptrdiff_t(first), points_.end());
        points_.resize(first);
        for (const Point& p : tail)
        {
            points_.push_back(p);
            appendRow();
        }
    }
    void refactor() { refactorFrom(0); }
    // Until at most @p target points remain: the pair of points of one arm
    // closest in context (summed weight, weighted mean context and log(cost)),
    // each point merged at most once per pass, closest pairs first.
    void merge(std::size_t target)
    {
        while (points_.size() > target)
        {
            std::vector<std::size_t> order(points_.size());
            for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
            std::stable_sort(order.begin(), order.end(),
                [&](std::size_t i, std::size_t j)
                {
                    return points_[i].arm != points_[j].arm ? points_[i].arm < points_[j].arm
                                                            : points_[i].context < points_[j].context;
                });
            struct Pair
            {
                double gap;
                std::size_t i, j;
            };
            std::vector<Pair> pairs;
            for (std::size_t q = 0; q + 1 < order.size(); ++q)
            {
                const Point &p = points_[order[q]], &r = points_[order[q + 1]];
                if (p.arm == r.arm)
                {
                    pairs.push_back({r.context - p.context, std::min(order[q], order[q + 1]),
                        std::max(order[q], order[q + 1])});
                }
            }
            if (pairs.empty()) return;
            std::stable_sort(
                pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.gap < y.gap; });
            std::vector<bool> used(points_.size(), false), gone(points_.size(), false);
            std::size_t remaining = points_.size();
            for (const Pair& pr : pairs)
            {
                if (remaining <= target) break;
                if (used[pr.i] || used[pr.j]) continue;
                Point &p = points_[pr.i], &r = points_[pr.j];
                const double w = p.weight + r.weight;
                p.context = (p.weight * p.context + r.weight * r.context) / w;
                p.y = (p.weight * p.y + r.weight * r.y) / w;
                p.weight = w;
                used[pr.i] = used[pr.j] = gone[pr.j] = true;
                --remaining;
            }
            std::vector<Point> kept;
            for (std::size_t i = 0; i < points_.size(); ++i)
                if (!gone[i]) kept.push_back(points_[i]);
            points_.swap(kept);
        }
    }
    // Lower factor of the n x n symmetric positive semi-definite A: a pivot
    // that round-off leaves at or below zero gives a zero column.
    static std::vector<double> semidefiniteCholesky(const std::vector<double>& A, std::size_t n)
    {
        std::vector<double> L(n * n, 0.0);
        for (std::size_t j = 0; j < n; ++j)
        {
            double d = A[j * n + j];
            for (std::size_t k = 0; k < j; ++k) d -= L[j * n + k] * L[j * n + k];
            const double pivot = d > 1e-12 ? std::sqrt(d) : 0.0;
            L[j * n + j] = pivot;
            for (std::size_t i = j + 1; i < n; ++i)
            {
                double s = A[i * n + j];
                for (std::size_t k = 0; k < j; ++k) s -= L[i * n + k] * L[j * n + k];
                L[i * n + j] = pivot > 0 ? s / pivot : 0.0;
            }
        }
        return L;
    }

    bool contextual_;
    double noise_;
    std::size_t capacity_;
    std::vector<Point> points_;
    std::vector<double> factor_;      // capacity_ x capacity_, rows 0..points_.size()-1 used
    std::vector<double> omegaKernel_; // arms x arms
    double logSum_ = 0;
};

} // namespace

RelaxationPolicy::RelaxationPolicy(const RelaxationSettings& settings)
    : settings_(settings), rng_(settings.seed)
{
    if (settings.arms < 1)
    {
        throw std::invalid_argument("relaxation policy: arms must be at least 1");
    }
    if (settings.labelledArms)
    {
        for (int a = 0; a < settings.arms; ++a) omegas_.push_back(a);
        return;
    }
    if (!(settings.omegaMin > 0) || !(settings.omegaMax < 2) || settings.omegaMax < settings.omegaMin)
    {
        throw std::invalid_argument("relaxation policy: omegaRange must lie in (0, 2)"
                                    " with omegaMin <= omegaMax (SOR diverges outside)");
    }
    for (int a = 0; a < settings.arms; ++a)
    {
        omegas_.push_back(
            settings.arms == 1
                ? settings.omegaMin
                : settings.omegaMin + (settings.omegaMax - settings.omegaMin) * a / (settings.arms - 1));
    }
}

const std::vector<std::string>& RelaxationPolicy::names()
{
    static const std::vector<std::string> list{
        "fixed", "epsilonGreedy", "tsallisInf", "gaussianTS", "chebCB", "chebTS", "gaussianProcessTS"};
    return list;
}

std::unique_ptr<RelaxationPolicy> RelaxationPolicy::New(
    const std::string& name, const RelaxationSettings& settings)
{
    if (name == "fixed") return std::make_unique<FixedPolicy>(settings);
    if (name == "epsilonGreedy") return std::make_unique<EpsilonGreedyPolicy>(settings);
    if (name == "tsallisInf") return std::make_unique<TsallisInfPolicy>(settings);
    if (name == "gaussianTS") return std::make_unique<GaussianTSPolicy>(settings);
    if ((name == "chebCB" || name == "chebTS" || name == "gaussianProcessTS") && settings.labelledArms)
    {
        throw std::invalid_argument(
            "policy '" + name
            + "' models the cost as a smooth function of omega; these arms are named"
              " choices without an order: use gaussianTS, tsallisInf or epsilonGreedy");
    }
    if (name == "chebCB") return std::make_unique<ChebCBPolicy>(settings);
    if (name == "chebTS") return std::make_unique<ChebTSPolicy>(settings);
    if (name == "gaussianProcessTS") return std::make_unique<GaussianProcessTSPolicy>(settings);
    throw std::invalid_argument("unknown relaxation policy '" + name
                                + "' (fixed, epsilonGreedy, tsallisInf, gaussianTS, chebCB, chebTS,"
                                  " gaussianProcessTS)");
}

double RelaxationPolicy::uniform()
{
    // Explicit arithmetic: std::uniform_real_distribution differs between
    // standard libraries, which would break "same seed, same decisions".
    return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0);
}

double RelaxationPolicy::normal()
{
    const double u1 = 1.0 - uniform(); // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

std::size_t RelaxationPolicy::choose(double context)
{
    lastArm_ = chooseArm(context);
    lastContext_ = context;
    return lastArm_;
}

void RelaxationPolicy::observe(double cost)
{
    if (!std::isfinite(cost) || cost < 0)
    {
        throw std::invalid_argument("relaxation policy: cost must be finite and >= 0");
    }
    costSum_ += cost;
    // Twice the running mean makes a typical loss 1/2, as the estimator's
    // baseline; losses stay in [0, 1] as Tsallis-INF's bound assumes.
    const double scale =
        settings_.costScale > 0 ? settings_.costScale : 2 * costSum_ / static_cast<double>(rounds_ + 1);
    const double loss = scale > 0 ? std::min(1.0, cost / scale) : 0.0;
    learn(lastArm_, loss, cost, lastContext_);
    ++rounds_;
}

void RelaxationPolicy::write(std::ostream& os) const
{
    const auto flags = os.flags();
    const auto precision = os.precision();
    os << std::setprecision(17);
    os << stateHeader << ' ' << stateVersion << ' ' << name() << '\n';
    writeVector(os, "omegas", omegas_);
    os << "rounds " << rounds_ << " lastArm " << lastArm_ << " lastContext " << lastContext_ << " costSum "
       << costSum_ << '\n';
    os << "rng " << rng_ << '\n';
    writeState(os);
    os.flags(flags);
    os.precision(precision);
}

void RelaxationPolicy::read(std::istream& is)
{
    expectWord(is, stateHeader);
    int version = 0;
    std::string policyName;
    is >> version >> policyName;
    if (version != stateVersion || policyName != name())
    {
        throw std::runtime_error("relaxation policy state is version " + std::to_string(version) + " of '"
                                 + policyName + "'; expected version " + std::to_string(stateVersion)
                                 + " of '" + name() + "'");
    }
    std::vector<double> omegas;
    readVector(is, "omegas", omegas);
    if (omegas.size() != omegas_.size())
    {
        throw std::runtime_error("relaxation policy state has " + std::to_string(omegas.size())
                                 + " arms; the settings give " + std::to_string(omegas_.size()));
    }
    for (std::size_t a = 0; a < omegas.size(); ++a)
    {
        if (std::abs(omegas[a] - omegas_[a]) > 1e-12)
        {
            throw std::runtime_error("relaxation policy state has other omegas than the settings");
        }
    }
    expectWord(is, "rounds");
    is >> rounds_;
    expectWord(is, "lastArm");
    is >> lastArm_;
    expectWord(is, "lastContext");
    is >> lastContext_;
    expectWord(is, "costSum");
    is >> costSum_;
    expectWord(is, "rng");
    is >> rng_;
    if (!is) throw std::runtime_error("relaxation policy state: truncated header");
    readState(is);
}

std::string RelaxationPolicy::state() const
{
    std::ostringstream os;
    write(os);
    return os.str();
}

void RelaxationPolicy::setState(const std::string& text)
{
    std::istringstream is(text);
    read(is);
}

} // namespace mlcfd
