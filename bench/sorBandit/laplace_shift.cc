/* ---------------------------------------------------------------------
 * Benchmark 1 of the SOR bandits: the setting of "Learning to Relax"
 * (Khodak et al., ICLR 2024).
 *
 * A sequence of linear systems (A + c I) x = b, A the 5-point Laplacian on
 * an n x n grid, the shift c drawn per instance from U[cMin, cMax] and b
 * random, each solved by SOR (deal.II's SolverRelaxation with
 * PreconditionSOR) to a relative residual of 1e-8. The cost of a solve is
 * its iteration count.
 *
 * Every (instance, omega) pair of the 20-arm grid is solved once, so the
 * table of true costs gives the best fixed omega in hindsight and the
 * instance-optimal omega; the policies then run on the sequence, each
 * solve's cost looked up in that table (exactly what the solve would have
 * returned: the policies see nothing else).
 *
 *   laplace_shift [instances=1000] [n=32] [out=sor_bandit] [shifts=uniform]
 *
 * shifts: uniform (c ~ U[0, 0.5]), skewed (c ~ 0.5 Beta(0.5, 1.5), most
 * systems near the hard end c = 0), nearSingular (c ~ -0.8 lambda_min +
 * 0.5 Beta(0.5, 1.5): the smallest eigenvalue of A + cI down to 0.2 of the
 * Laplacian's, as the paper's high-variance setting).
 *
 * Every policy runs on the sequence with seeds 1 to 10 (the instances stay
 * the same); the table gives, after 300 and after all instances, the median
 * [min, max] over the seeds of its total cost against the best fixed omega
 * in hindsight and against instance-optimal. Writes <out>.md (table),
 * <out>_curves.csv (cumulative costs, seed 1) and <out>_costs.csv.
 * --------------------------------------------------------------------- */

#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/precondition.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/solver_relaxation.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/vector.h>

#include "mlcfd/RelaxationPolicy.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>

using namespace dealii;

namespace
{
constexpr double tolerance = 1e-8;
constexpr unsigned int maxIterations = 20000;

SparsityPattern laplace_sparsity(const unsigned int n)
{
    DynamicSparsityPattern dsp(n * n);
    for (unsigned int i = 0; i < n; ++i)
        for (unsigned int j = 0; j < n; ++j)
        {
            const unsigned int row = i * n + j;
            dsp.add(row, row);
            if (i > 0) dsp.add(row, row - n);
            if (i + 1 < n) dsp.add(row, row + n);
            if (j > 0) dsp.add(row, row - 1);
            if (j + 1 < n) dsp.add(row, row + 1);
        }
    SparsityPattern pattern;
    pattern.copy_from(dsp);
    return pattern;
}

void fill(SparseMatrix<double>& A, const unsigned int n, const double c)
{
    for (unsigned int i = 0; i < n; ++i)
        for (unsigned int j = 0; j < n; ++j)
        {
            const unsigned int row = i * n + j;
            A.set(row, row, 4.0 + c);
            if (i > 0) A.set(row, row - n, -1.0);
            if (i + 1 < n) A.set(row, row + n, -1.0);
            if (j > 0) A.set(row, row - 1, -1.0);
            if (j + 1 < n) A.set(row, row + 1, -1.0);
        }
}

unsigned int sor_iterations(const SparseMatrix<double>& A, const Vector<double>& b, const double omega)
{
    PreconditionSOR<SparseMatrix<double>> sor;
    sor.initialize(A, PreconditionSOR<SparseMatrix<double>>::AdditionalData(omega));
    SolverControl control(maxIterations, tolerance * b.l2_norm(), false, false);
    SolverRelaxation<Vector<double>> solver(control);
    Vector<double> x(b.size());
    try
    {
        solver.solve(A, x, b, sor);
    }
    catch (const SolverControl::NoConvergence&)
    {
    }
    return control.last_step();
}
} // namespace

int main(int argc, char** argv)
{
    const unsigned int instances = argc > 1 ? std::stoul(argv[1]) : 1000;
    const unsigned int n = argc > 2 ? std::stoul(argv[2]) : 32;
    const std::string out = argc > 3 ? argv[3] : "sor_bandit";
    const std::string shifts = argc > 4 ? argv[4] : "uniform";

    // Smallest eigenvalue of the 5-point Laplacian (Dirichlet, n x n inner).
    const double lambda_min = 8 * std::pow(std::sin(M_PI / (2.0 * (n + 1))), 2);
    double cMin = 0, cMax = 0.5;
    if (shifts == "nearSingular")
    {
        cMin = -0.8 * lambda_min;
        cMax = cMin + 0.5;
    }
    else if (shifts != "uniform" && shifts != "skewed")
    {
        std::cerr << "laplace_shift: shifts '" << shifts << "' unknown (uniform, skewed, nearSingular)"
                  << std::endl;
        return 2;
    }

    mlcfd::RelaxationSettings settings; // 20 arms on [1, 1.95]
    settings.contextMin = cMin;
    settings.contextMax = cMax;
    const std::vector<double> omegas = mlcfd::RelaxationPolicy::New("tsallisInf", settings)->omegas();
    const std::size_t arms = omegas.size();

    // The instances and the true cost of every (instance, omega).
    std::mt19937_64 rng(2024);
    std::uniform_real_distribution<double> uniform(0, 1), entry(-1, 1);
    std::gamma_distribution<double> gammaA(0.5), gammaB(1.5);
    const auto shift = [&](std::mt19937_64& g)
    {
        if (shifts == "uniform") return cMin + (cMax - cMin) * uniform(g);
        const double x = gammaA(g), y = gammaB(g); // x/(x + y) ~ Beta(0.5, 1.5)
        return cMin + (cMax - cMin) * x / (x + y);
    };
    SparsityPattern pattern = laplace_sparsity(n);
    SparseMatrix<double> A(pattern);
    std::vector<double> contexts(instances);
    std::vector<std::vector<unsigned int>> cost(instances, std::vector<unsigned int>(arms));

    const auto start = std::chrono::steady_clock::now();
    for (unsigned int i = 0; i < instances; ++i)
    {
        contexts[i] = shift(rng);
        fill(A, n, contexts[i]);
        Vector<double> b(n * n);
        for (auto& v : b) v = entry(rng);
        for (std::size_t a = 0; a < arms; ++a) cost[i][a] = sor_iterations(A, b, omegas[a]);
        if ((i + 1) % 100 == 0)
            std::cout << "solved " << i + 1 << "/" << instances << " instances x " << arms << " omegas ("
                      << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                      << " s)" << std::endl;
    }

    // Mean seconds of one SOR solve (all instances and omegas), beside the
    // policies' own time per decision.
    const double solveSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
        / (static_cast<double>(instances) * arms);

    // Baselines from the table.
    std::vector<double> total_fixed(arms, 0.0);
    double total_instance_optimal = 0;
    for (unsigned int i = 0; i < instances; ++i)
    {
        unsigned int best = cost[i][0];
        for (std::size_t a = 0; a < arms; ++a)
        {
            total_fixed[a] += cost[i][a];
            best = std::min(best, cost[i][a]);
        }
        total_instance_optimal += best;
    }
    std::size_t best_arm = 0;
    for (std::size_t a = 1; a < arms; ++a)
        if (total_fixed[a] < total_fixed[best_arm]) best_arm = a;
    const double best_fixed = total_fixed[best_arm], omega_one = total_fixed[0];

    // The policies on the same sequence, seeds 1 to 10: totals after the
    // first `early` instances and after all of them.
    const unsigned int early = std::min(300u, instances);
    const auto hindsight = [&](const unsigned int T)
    {
        std::vector<double> fixed(arms, 0.0);
        double optimal = 0;
        for (unsigned int i = 0; i < T; ++i)
        {
            for (std::size_t a = 0; a < arms; ++a) fixed[a] += cost[i][a];
            optimal += *std::min_element(cost[i].begin(), cost[i].end());
        }
        return std::make_pair(*std::min_element(fixed.begin(), fixed.end()), optimal);
    };
    const auto [best_early, optimal_early] = hindsight(early);

    struct Policy
    {
        std::string label, name;
        int degree; // context degree (chebCB, chebTS)
    };
    const std::vector<Policy> policies{{"tsallisInf", "tsallisInf", 0}, {"epsilonGreedy", "epsilonGreedy", 0},
        {"chebTS (omega only)", "chebTS", 0}, {"chebCB (context)", "chebCB", 3},
        {"chebTS (context)", "chebTS", 3}, {"gaussianProcessTS (omega only)", "gaussianProcessTS", 0},
        {"gaussianProcessTS (context)", "gaussianProcessTS", 3}};
    std::map<std::string, std::vector<double>> cumulative;
    std::map<std::string, std::array<std::vector<double>, 4>> ratios;
    std::map<std::string, double> decisionSeconds; // choose + observe, all seeds
    for (const auto& p : policies)
        for (std::uint64_t seed = 1; seed <= 10; ++seed)
        {
            mlcfd::RelaxationSettings s = settings;
            s.seed = seed;
            s.degree = p.degree;
            auto policy = mlcfd::RelaxationPolicy::New(p.name, s);
            double total = 0, total_early = 0;
            const auto policyStart = std::chrono::steady_clock::now();
            for (unsigned int i = 0; i < instances; ++i)
            {
                const std::size_t a = policy->choose(contexts[i]);
                policy->observe(cost[i][a]);
                total += cost[i][a];
                if (i + 1 == early) total_early = total;
                if (seed == 1) cumulative[p.label].push_back(total);
            }
            decisionSeconds[p.label] +=
                std::chrono::duration<double>(std::chrono::steady_clock::now() - policyStart).count();
            auto& r = ratios[p.label];
            r[0].push_back(total_early / best_early);
            r[1].push_back(total_early / optimal_early);
            r[2].push_back(total / best_fixed);
            r[3].push_back(total / total_instance_optimal);
        }
    {
        double fixed_total = 0, best_total = 0, optimal_total = 0;
        for (unsigned int i = 0; i < instances; ++i)
        {
            fixed_total += cost[i][0];
            best_total += cost[i][best_arm];
            optimal_total += *std::min_element(cost[i].begin(), cost[i].end());
            cumulative["omega = 1"].push_back(fixed_total);
            cumulative["best fixed omega"].push_back(best_total);
            cumulative["instance-optimal"].push_back(optimal_total);
        }
    }
    const auto spread = [](std::vector<double> v)
    {
        std::sort(v.begin(), v.end());
        std::ostringstream os;
        os << std::fixed << std::setprecision(3) << 0.5 * (v[(v.size() - 1) / 2] + v[v.size() / 2]) << " ["
           << v.front() << ", " << v.back() << "]";
        return os.str();
    };

    std::ostringstream table;
    table << std::fixed << std::setprecision(3);
    table << "SOR on (A + cI) x = b, 5-point Laplacian " << n << "x" << n << ", shifts " << shifts << " on ["
          << cMin << ", " << cMax << "], relative residual 1e-8, " << instances
          << " instances, 20 omegas on [1, 1.95]; best fixed omega in hindsight " << std::setprecision(2)
          << omegas[best_arm] << std::setprecision(3)
          << "; policies: median [min, max] over seeds 1-10; one SOR solve takes " << std::setprecision(1)
          << 1e6 * solveSeconds << std::setprecision(3) << " us on average\n\n"
          << "| policy | / best fixed, " << early << " | / instance-optimal, " << early << " | / best fixed, "
          << instances << " | / instance-optimal, " << instances << " | policy time per solve |\n"
          << "|---|---|---|---|---|---|\n";
    double omega_one_early = 0;
    for (unsigned int i = 0; i < early; ++i) omega_one_early += cost[i][0];
    table << "| omega = 1 | " << omega_one_early / best_early << " | | " << omega_one / best_fixed
          << " | | |\n";
    table << "| instance-optimal | " << optimal_early / best_early << " | 1 | "
          << total_instance_optimal / best_fixed << " | 1 | |\n";
    for (const auto& p : policies)
    {
        const auto& r = ratios[p.label];
        table << "| " << p.label << " | " << spread(r[0]) << " | " << spread(r[1]) << " | " << spread(r[2])
              << " | " << spread(r[3]) << " | " << std::setprecision(1)
              << 1e6 * decisionSeconds[p.label] / (10.0 * instances) << " us |\n"
              << std::setprecision(3);
    }
    std::cout << "\n" << table.str();
    std::ofstream(out + ".md") << table.str();

    std::vector<std::string> rows{"omega = 1", "best fixed omega", "instance-optimal"};
    for (const auto& p : policies) rows.push_back(p.label);
    std::ofstream csv(out + "_curves.csv");
    csv << "instance";
    for (const auto& name : rows) csv << "," << name;
    csv << "\n";
    for (unsigned int i = 0; i < instances; ++i)
    {
        csv << i + 1;
        for (const auto& name : rows) csv << "," << cumulative[name][i];
        csv << "\n";
    }
    std::ofstream table_csv(out + "_costs.csv");
    table_csv << "context";
    for (const double w : omegas) table_csv << "," << w;
    table_csv << "\n";
    for (unsigned int i = 0; i < instances; ++i)
    {
        table_csv << contexts[i];
        for (const unsigned int c : cost[i]) table_csv << "," << c;
        table_csv << "\n";
    }
    std::cout << "wrote " << out << ".md, " << out << "_curves.csv and " << out
              << "_costs.csv (iterations of every instance and omega)" << std::endl;
}
