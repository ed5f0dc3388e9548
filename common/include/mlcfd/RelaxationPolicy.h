// mlcfd: online choice of a relaxation factor across a sequence of solves.
#ifndef MLCFD_RELAXATION_POLICY_H
#define MLCFD_RELAXATION_POLICY_H

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mlcfd
{

/// Settings shared by the policies (after "Learning to Relax", Khodak et al.,
/// ICLR 2024). A policy sees only the cost of each solve (iterations or
/// seconds) and, for the contextual one, a scalar known before the solve.
struct RelaxationSettings
{
    /// The arms: `arms` values of omega evenly spaced on [omegaMin, omegaMax].
    double omegaMin = 1.0;
    double omegaMax = 1.95;
    int arms = 20;

    /// true: the arms are named choices without an order (whole solver
    /// configurations): omega(arm) is the arm's index, omegaMin and omegaMax
    /// are not used, and the policies that model the cost as a smooth
    /// function of omega (chebCB, chebTS) are refused.
    bool labelledArms = false;

    /// Costs are scaled to losses in [0, 1] (clipped) by this bound (e.g. the
    /// solver's maximum iterations); 0: by twice the running mean of the costs (as
    /// "Learning to Relax" and PCGBandit normalise; a bound far above the
    /// typical cost keeps every loss small and play near uniform).
    double costScale = 0;

    /// Seed of the policy's random numbers: equal seeds, equal decisions.
    std::uint64_t seed = 1;

    /// tsallisInf: step size eta_t = learningRate/sqrt(t) (4 in Zimmert &
    /// Seldin's analysis of the reduced-variance estimator used here).
    double learningRate = 4.0;

    /// epsilonGreedy: probability of a uniformly random arm.
    double epsilon = 0.1;

    /// fixed: the omega used for every solve.
    double omega = 1.0;

    /// chebCB, chebTS: context range mapped to [-1, 1], polynomial degree
    /// in the context (chebTS, gaussianProcessTS: 0 for a non-contextual
    /// model), ridge
    /// regularisation and (chebCB) confidence width (in log(cost) units: 0.1
    /// is about 10%).
    double contextMin = 0.0;
    double contextMax = 1.0;
    int degree = 3;
    double ridge = 0.01;
    double confidence = 0.1;

    /// chebTS: polynomial degree in omega of its one model of log(cost)
    /// over all arms.
    int omegaDegree = 4;
    /// chebTS, gaussianTS, gaussianProcessTS: width of the posterior they
    /// sample from, relative to the Bayesian one (smaller: less
    /// exploration); 0: each policy's own, chosen on bench/sorBanditPolicies
    /// (bench/results/sor_bandit_policies.md): 0.5 for chebTS and gaussianTS,
    /// 0.25 for gaussianProcessTS.
    double sampleScale = 0;

    /// gaussianTS: its statistics decay by 1 - 1/memory per solve, so that
    /// costs that drift (a start-up transient, a flow that changes) are
    /// forgotten and an arm left alone for long is tried again; 0: never
    /// forget.
    double memory = 200;

    /// chebTS prior: log(cost) a bowl over the omega range, higher by
    /// 2 priorCurvature at its ends than in its middle, worth priorWeight
    /// solves (so the first solves try the middle, not the ends).
    /// gaussianProcessTS: the same bowl is its prior mean.
    double priorCurvature = 1.0;
    double priorWeight = 10.0;

    /// gaussianProcessTS: correlation lengths of its squared-exponential
    /// kernel on the omega and context ranges mapped to [-1, 1] (the
    /// defaults were chosen on bench/sorBanditPolicies).
    double lengthOmega = 0.5;
    double lengthContext = 0.3;
    /// gaussianProcessTS: noise of log(cost) about the model; 0: 0.05 with
    /// a context (degree > 0; solves of equal context cost about the same),
    /// 0.6 without (the spread between solves is then unexplained).
    double noise = 0;
    /// gaussianProcessTS: most solves it keeps; when full, neighbouring
    /// solves of one arm (in context) are merged into one of their summed
    /// weight, so its cost per solve stays bounded (O(maxPoints^2)).
    int maxPoints = 256;
};

/// Picks the arm (omega) of the next solve and learns from its cost.
///
/// Use: `arm = choose(context); solve with omega(arm); observe(cost);`.
/// State (statistics and random-number generator) can be written and read
/// back, so a restarted simulation keeps what it learned.
class RelaxationPolicy
{
public:
    explicit RelaxationPolicy(const RelaxationSettings& settings);
    virtual ~RelaxationPolicy() = default;

    /// Policy names: fixed, epsilonGreedy, tsallisInf, gaussianTS, chebCB,
    /// chebTS, gaussianProcessTS.
    static std::unique_ptr<RelaxationPolicy> New(const std::string& name, const RelaxationSettings& settings);
    static const std::vector<std::string>& names();

    virtual std::string name() const = 0;

    /// Arm for the next solve; @p context is used by contextual policies.
    std::size_t choose(double context = 0);

    /// Cost of the solve made with the last chosen arm.
    void observe(double cost);

    double omega(std::size_t arm) const { return omegas_.at(arm); }
    const std::vector<double>& omegas() const { return omegas_; }
    std::size_t lastArm() const { return lastArm_; }
    std::size_t rounds() const { return rounds_; }

    /// Text state, read back by read() into a policy of the same name and
    /// settings (checked).
    void write(std::ostream& os) const;
    void read(std::istream& is);
    std::string state() const;
    void setState(const std::string& text);

protected:
    virtual std::size_t chooseArm(double context) = 0;
    virtual void learn(std::size_t arm, double loss, double cost, double context) = 0;
    virtual void writeState(std::ostream& os) const = 0;
    virtual void readState(std::istream& is) = 0;

    /// Uniform number in [0, 1) from the policy's generator.
    double uniform();

    /// settings_.sampleScale, or @p own where it is 0.
    double sampleScale(double own) const { return settings_.sampleScale > 0 ? settings_.sampleScale : own; }

    /// Standard normal number from the policy's generator (Box-Muller on
    /// uniform(): the same on every standard library).
    double normal();

    RelaxationSettings settings_;
    std::vector<double> omegas_;
    std::mt19937_64 rng_;
    std::size_t rounds_ = 0;
    std::size_t lastArm_ = 0;
    double lastContext_ = 0;
    /// Sum of the costs observed (running mean for the loss scale).
    double costSum_ = 0;
};

} // namespace mlcfd

#endif
