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
constexpr int stateVersion = 1;

void expectWord(std::istream& is, const std::string& word)
{
    std::string found;
    is >> found;
    if (!is || found != word)
    {
        throw std::runtime_error("relaxation policy state: expected '" + word
            + "' but found '" + found + "'");
    }
}

template <typename T>
void readVector(std::istream& is, const std::string& label, std::vector<T>& v)
{
    expectWord(is, label);
    std::size_t n = 0;
    is >> n;
    v.assign(n, T());
    for (T& x : v) is >> x;
    if (!is) throw std::runtime_error("relaxation policy state: truncated '" + label + "'");
}

template <typename T>
void writeVector(std::ostream& os, const std::string& label, const std::vector<T>& v)
{
    os << label << ' ' << v.size();
    for (const T& x : v) os << ' ' << x;
    os << '\n';
}


/// The same omega for every solve (a baseline).
class FixedPolicy : public RelaxationPolicy
{
public:
    explicit FixedPolicy(const RelaxationSettings& s)
    :
        RelaxationPolicy(s)
    {
        omegas_ = {s.omega};
    }
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
    :
        RelaxationPolicy(s),
        count_(omegas_.size(), 0),
        sum_(omegas_.size(), 0.0)
    {}
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
            return std::min(k - 1, static_cast<std::size_t>(uniform()*k));
        }
        std::size_t best = 0;
        for (std::size_t a = 1; a < k; ++a)
        {
            if (sum_[a]/count_[a] < sum_[best]/count_[best]) best = a;
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
/// "Learning to Relax": p_i = 4 (eta_t (Lhat_i - x))^-2 with eta_t = eta_0/sqrt(t)
/// and x normalising p, importance-weighted loss estimates Lhat. Regret
/// against the best fixed arm: at most 4 sqrt(K T) + 1.
class TsallisInfPolicy : public RelaxationPolicy
{
public:
    explicit TsallisInfPolicy(const RelaxationSettings& s)
    :
        RelaxationPolicy(s),
        lossEstimate_(omegas_.size(), 0.0),
        probability_(omegas_.size(), 1.0/omegas_.size())
    {}
    std::string name() const override { return "tsallisInf"; }

protected:
    std::size_t chooseArm(double) override
    {
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
        lossEstimate_[arm] += loss/probability_[arm];
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
        const double eta = settings_.learningRate/std::sqrt(static_cast<double>(rounds_ + 1));
        const double minLoss = *std::min_element(lossEstimate_.begin(), lossEstimate_.end());
        double x = minLoss - 2.0/eta;
        for (int iter = 0; iter < 100; ++iter)
        {
            double sum = 0, derivative = 0;
            for (double L : lossEstimate_)
            {
                const double w = 1.0/(eta*(L - x));
                sum += 4*w*w;
                derivative += 8*w*w*w*eta;
            }
            const double step = (sum - 1)/derivative;
            x -= step;
            if (std::abs(step) < 1e-14*(1 + std::abs(x))) break;
        }
        double total = 0;
        for (std::size_t a = 0; a < lossEstimate_.size(); ++a)
        {
            const double w = 1.0/(eta*(lossEstimate_[a] - x));
            probability_[a] = 4*w*w;
            total += probability_[a];
        }
        for (double& p : probability_) p /= total;
    }

    std::vector<double> lossEstimate_;
    std::vector<double> probability_;
};


/// Contextual: per-arm ridge regression of log(cost) on Chebyshev
/// polynomials of the context, with a lower confidence bound for
/// exploration (after the paper's ChebCB).
class ChebCBPolicy : public RelaxationPolicy
{
public:
    explicit ChebCBPolicy(const RelaxationSettings& s)
    :
        RelaxationPolicy(s),
        nFeatures_(static_cast<std::size_t>(std::max(0, s.degree)) + 1),
        gram_(omegas_.size()*nFeatures_*nFeatures_, 0.0),
        moment_(omegas_.size()*nFeatures_, 0.0)
    {
        if (!(s.contextMax > s.contextMin))
        {
            throw std::invalid_argument("chebCB: contextMax must exceed contextMin");
        }
        for (std::size_t a = 0; a < omegas_.size(); ++a)
            for (std::size_t i = 0; i < nFeatures_; ++i)
                gram_[(a*nFeatures_ + i)*nFeatures_ + i] = s.ridge;
    }
    std::string name() const override { return "chebCB"; }

protected:
    std::size_t chooseArm(double context) override
    {
        const std::vector<double> phi = features(context);
        std::size_t best = 0;
        double bestBound = std::numeric_limits<double>::infinity();
        std::vector<double> theta, Ainv_phi;
        for (std::size_t a = 0; a < omegas_.size(); ++a)
        {
            solve(a, moment(a), theta);
            solve(a, phi, Ainv_phi);
            double mean = 0, variance = 0;
            for (std::size_t i = 0; i < nFeatures_; ++i)
            {
                mean += theta[i]*phi[i];
                variance += phi[i]*Ainv_phi[i];
            }
            const double bound = mean - settings_.confidence*std::sqrt(std::max(0.0, variance));
            if (bound < bestBound)
            {
                bestBound = bound;
                best = a;
            }
        }
        return best;
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
            moment_[arm*nFeatures_ + i] += phi[i]*target;
            for (std::size_t j = 0; j < nFeatures_; ++j)
                gram_[(arm*nFeatures_ + i)*nFeatures_ + j] += phi[i]*phi[j];
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
        if (gram_.size() != omegas_.size()*nFeatures_*nFeatures_
         || moment_.size() != omegas_.size()*nFeatures_)
        {
            throw std::runtime_error("chebCB state: sizes do not match the settings");
        }
    }

private:
    std::vector<double> features(double context) const
    {
        const double z = std::clamp(2*(context - settings_.contextMin)
            /(settings_.contextMax - settings_.contextMin) - 1, -1.0, 1.0);
        std::vector<double> phi(nFeatures_, 1.0);
        if (nFeatures_ > 1) phi[1] = z;
        for (std::size_t i = 2; i < nFeatures_; ++i) phi[i] = 2*z*phi[i - 1] - phi[i - 2];
        return phi;
    }
    std::vector<double> moment(std::size_t arm) const
    {
        return std::vector<double>(moment_.begin() + arm*nFeatures_,
                                   moment_.begin() + (arm + 1)*nFeatures_);
    }
    // x = A_arm^-1 rhs by Cholesky (A is symmetric positive definite).
    void solve(std::size_t arm, const std::vector<double>& rhs, std::vector<double>& x) const
    {
        const std::size_t n = nFeatures_;
        std::vector<double> L(n*n, 0.0);
        const double* A = &gram_[arm*n*n];
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j <= i; ++j)
            {
                double s = A[i*n + j];
                for (std::size_t k = 0; k < j; ++k) s -= L[i*n + k]*L[j*n + k];
                L[i*n + j] = (i == j) ? std::sqrt(s) : s/L[j*n + j];
            }
        x = rhs;
        for (std::size_t i = 0; i < n; ++i)
        {
            for (std::size_t k = 0; k < i; ++k) x[i] -= L[i*n + k]*x[k];
            x[i] /= L[i*n + i];
        }
        for (std::size_t i = n; i-- > 0;)
        {
            for (std::size_t k = i + 1; k < n; ++k) x[i] -= L[k*n + i]*x[k];
            x[i] /= L[i*n + i];
        }
    }

    std::size_t nFeatures_;
    std::vector<double> gram_;
    std::vector<double> moment_;
};

} // namespace


RelaxationPolicy::RelaxationPolicy(const RelaxationSettings& settings)
:
    settings_(settings),
    rng_(settings.seed)
{
    if (settings.arms < 1)
    {
        throw std::invalid_argument("relaxation policy: arms must be at least 1");
    }
    if (!(settings.omegaMin > 0) || !(settings.omegaMax < 2) || settings.omegaMax < settings.omegaMin)
    {
        throw std::invalid_argument("relaxation policy: omegaRange must lie in (0, 2)"
            " with omegaMin <= omegaMax (SOR diverges outside)");
    }
    for (int a = 0; a < settings.arms; ++a)
    {
        omegas_.push_back(settings.arms == 1 ? settings.omegaMin
            : settings.omegaMin + (settings.omegaMax - settings.omegaMin)*a/(settings.arms - 1));
    }
}


const std::vector<std::string>& RelaxationPolicy::names()
{
    static const std::vector<std::string> list{"fixed", "epsilonGreedy", "tsallisInf", "chebCB"};
    return list;
}


std::unique_ptr<RelaxationPolicy> RelaxationPolicy::New
(
    const std::string& name,
    const RelaxationSettings& settings
)
{
    if (name == "fixed") return std::make_unique<FixedPolicy>(settings);
    if (name == "epsilonGreedy") return std::make_unique<EpsilonGreedyPolicy>(settings);
    if (name == "tsallisInf") return std::make_unique<TsallisInfPolicy>(settings);
    if (name == "chebCB") return std::make_unique<ChebCBPolicy>(settings);
    throw std::invalid_argument("unknown relaxation policy '" + name
        + "' (fixed, epsilonGreedy, tsallisInf, chebCB)");
}


double RelaxationPolicy::uniform()
{
    // Explicit arithmetic: std::uniform_real_distribution differs between
    // standard libraries, which would break "same seed, same decisions".
    return static_cast<double>(rng_() >> 11)*(1.0/9007199254740992.0);
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
    maxCost_ = std::max(maxCost_, cost);
    const double scale = settings_.costScale > 0 ? settings_.costScale : maxCost_;
    const double loss = scale > 0 ? std::min(1.0, cost/scale) : 0.0;
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
    os << "rounds " << rounds_ << " lastArm " << lastArm_ << " lastContext " << lastContext_
       << " maxCost " << maxCost_ << '\n';
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
        throw std::runtime_error("relaxation policy state is version "
            + std::to_string(version) + " of '" + policyName + "'; expected version "
            + std::to_string(stateVersion) + " of '" + name() + "'");
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
    expectWord(is, "maxCost");
    is >> maxCost_;
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
