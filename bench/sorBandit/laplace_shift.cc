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
 *   laplace_shift [instances=1000] [n=32] [out=sor_bandit]
 *
 * writes <out>.md (table) and <out>_curves.csv (cumulative costs).
 * --------------------------------------------------------------------- */

#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/precondition.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/solver_relaxation.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/vector.h>

#include "mlcfd/RelaxationPolicy.h"

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>

using namespace dealii;

namespace
{
  constexpr double cMin = 0.0, cMax = 0.5, tolerance = 1e-8;
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

  void fill(SparseMatrix<double> &A, const unsigned int n, const double c)
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

  unsigned int sor_iterations(const SparseMatrix<double> &A,
                              const Vector<double>       &b,
                              const double                omega)
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
    catch (const SolverControl::NoConvergence &)
      {}
    return control.last_step();
  }
} // namespace


int main(int argc, char **argv)
{
  const unsigned int instances = argc > 1 ? std::stoul(argv[1]) : 1000;
  const unsigned int n         = argc > 2 ? std::stoul(argv[2]) : 32;
  const std::string  out       = argc > 3 ? argv[3] : "sor_bandit";

  mlcfd::RelaxationSettings settings;   // 20 arms on [1, 1.95]
  settings.contextMin = cMin;
  settings.contextMax = cMax;
  const std::vector<double> omegas =
    mlcfd::RelaxationPolicy::New("tsallisInf", settings)->omegas();
  const std::size_t arms = omegas.size();

  // The instances and the true cost of every (instance, omega).
  std::mt19937_64                        rng(2024);
  std::uniform_real_distribution<double> shift(cMin, cMax), entry(-1, 1);
  SparsityPattern                        pattern = laplace_sparsity(n);
  SparseMatrix<double>                   A(pattern);
  std::vector<double>                    contexts(instances);
  std::vector<std::vector<unsigned int>> cost(instances, std::vector<unsigned int>(arms));

  const auto start = std::chrono::steady_clock::now();
  for (unsigned int i = 0; i < instances; ++i)
    {
      contexts[i] = shift(rng);
      fill(A, n, contexts[i]);
      Vector<double> b(n * n);
      for (auto &v : b)
        v = entry(rng);
      for (std::size_t a = 0; a < arms; ++a)
        cost[i][a] = sor_iterations(A, b, omegas[a]);
      if ((i + 1) % 100 == 0)
        std::cout << "solved " << i + 1 << "/" << instances << " instances x " << arms
                  << " omegas ("
                  << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                  << " s)" << std::endl;
    }

  // Baselines from the table.
  std::vector<double> total_fixed(arms, 0.0);
  double              total_instance_optimal = 0;
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
    if (total_fixed[a] < total_fixed[best_arm])
      best_arm = a;
  const double best_fixed = total_fixed[best_arm], omega_one = total_fixed[0];

  // The policies, each on the same sequence.
  std::map<std::string, std::vector<double>> cumulative;
  const std::vector<std::string> policies{"tsallisInf", "epsilonGreedy", "chebCB"};
  for (const auto &name : policies)
    {
      auto   policy = mlcfd::RelaxationPolicy::New(name, settings);
      double total  = 0;
      for (unsigned int i = 0; i < instances; ++i)
        {
          const std::size_t a = policy->choose(contexts[i]);
          policy->observe(cost[i][a]);
          total += cost[i][a];
          cumulative[name].push_back(total);
        }
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

  std::ostringstream table;
  table << std::fixed << std::setprecision(3);
  table << "SOR on (A + cI) x = b, 5-point Laplacian " << n << "x" << n << ", c ~ U[" << cMin
        << ", " << cMax << "], relative residual 1e-8, " << instances
        << " instances, 20 omegas on [1, 1.95]; best fixed omega in hindsight "
        << std::setprecision(2) << omegas[best_arm] << std::setprecision(3) << "\n\n"
        << "| policy | total SOR iterations | / best fixed omega | / omega = 1 | / instance-optimal |\n"
        << "|---|---|---|---|---|\n";
  const std::vector<std::string> rows{"omega = 1", "best fixed omega", "instance-optimal",
                                      "tsallisInf", "epsilonGreedy", "chebCB"};
  for (const auto &name : rows)
    {
      const double total = cumulative[name].back();
      table << "| " << name << " | " << static_cast<long>(total) << " | " << total / best_fixed
            << " | " << total / omega_one << " | " << total / total_instance_optimal << " |\n";
    }
  std::cout << "\n" << table.str();
  std::ofstream(out + ".md") << table.str();

  std::ofstream csv(out + "_curves.csv");
  csv << "instance";
  for (const auto &name : rows)
    csv << "," << name;
  csv << "\n";
  for (unsigned int i = 0; i < instances; ++i)
    {
      csv << i + 1;
      for (const auto &name : rows)
        csv << "," << cumulative[name][i];
      csv << "\n";
    }
  std::ofstream table_csv(out + "_costs.csv");
  table_csv << "context";
  for (const double w : omegas)
    table_csv << "," << w;
  table_csv << "\n";
  for (unsigned int i = 0; i < instances; ++i)
    {
      table_csv << contexts[i];
      for (const unsigned int c : cost[i])
        table_csv << "," << c;
      table_csv << "\n";
    }
  std::cout << "wrote " << out << ".md, " << out << "_curves.csv and " << out
            << "_costs.csv (iterations of every instance and omega)" << std::endl;
}
