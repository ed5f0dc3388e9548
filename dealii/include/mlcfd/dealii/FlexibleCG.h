// mlcfd: the core's safeguarded flexible CG as a deal.II solver.
#ifndef MLCFD_DEALII_FLEXIBLE_CG_H
#define MLCFD_DEALII_FLEXIBLE_CG_H

#include "mlcfd/FlexibleCG.h"
#include "mlcfd/dealii/LocalRows.h"

#include <deal.II/base/mpi.h>
#include <deal.II/lac/solver_control.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

namespace mlcfd
{
namespace dealii
{

/**
 * mlcfd::FlexibleCG with deal.II's solver interface: solve(A, x, b, P) as
 * SolverCG and SolverFlexibleCG have it, a SolverControl for the stopping
 * test (SolverControl's absolute tolerance and ReductionControl's reduction
 * both work) and SolverControl::NoConvergence when it fails.
 *
 * Unlike deal.II's SolverFlexibleCG and PETSc's KSPFCG, it has the core's
 * safeguard: plain CG runs alongside and the solve returns whichever of the
 * two converges first, so a bad network costs at most one more matrix
 * product per iteration, never more iterations than CG. Each step also takes
 * the CG direction where it lowers the error more (compareWithCG). See
 * mlcfd::FlexibleCGSettings for the settings, all available here as
 * AdditionalData.
 *
 * Works with Vector<double>, PETScWrappers::MPI::Vector and
 * TrilinosWrappers::MPI::Vector, with any matrix and preconditioner that
 * have vmult() for that vector type; in parallel the dot products are
 * reduced over the vector's communicator.
 *
 * @code
 *   mlcfd::dealii::LearnedPreconditioner network;
 *   network.initialize(system_matrix, "graph.pt");
 *   SolverControl control(1000, 1e-8*system_rhs.l2_norm());
 *   mlcfd::dealii::FlexibleCG<Vector<double>> solver(control);
 *   solver.solve(system_matrix, solution, system_rhs, network);
 *   // solver.last_result().plainCG: CG alongside converged first
 * @endcode
 */
template<typename VectorType> class FlexibleCG
{
public:
    using AdditionalData = FlexibleCGSettings;

    explicit FlexibleCG(::dealii::SolverControl& control, const AdditionalData& data = AdditionalData())
        : control(control), data(data)
    {
    }

    /// Solve A x = b from the initial guess in @p x, preconditioned by P.
    template<typename MatrixType, typename PreconditionerType>
    void solve(const MatrixType& A, VectorType& x, const VectorType& b, const PreconditionerType& P)
    {
        using Access = internal::LocalValues<VectorType>;
        using Local = ::mlcfd::FlexibleCG::Vector;
        VectorType in(b), out(b);
        const auto toLocal = [](const VectorType& v, Local& values)
        {
            const double* begin = Access::read(v);
            values.assign(begin, begin + Access::size(v));
            Access::release(v, begin);
        };
        const auto fromLocal = [](const Local& values, VectorType& v)
        {
            double* begin = Access::write(v);
            std::copy(values.begin(), values.end(), begin);
            Access::release(v, begin);
        };
        // y = A x and z = P r on the locally owned entries, through
        // deal.II vectors with b's layout.
        const ::mlcfd::FlexibleCG::Operator multiply = [&](const Local& v, Local& y)
        {
            fromLocal(v, in);
            A.vmult(out, in);
            toLocal(out, y);
        };
        const ::mlcfd::FlexibleCG::Preconditioner precondition = [&](const Local& r, Local& z)
        {
            fromLocal(r, in);
            P.vmult(out, in);
            toLocal(out, z);
        };
        const ::mlcfd::FlexibleCG::Dot dot = [&b](const Local& u, const Local& v)
        {
            double sum = 0;
            for (std::size_t i = 0; i < u.size(); ++i) sum += u[i] * v[i];
            return reduce(sum, b);
        };
        // The SolverControl decides (ReductionControl sets its tolerance at
        // step 0 from the initial residual).
        const ::mlcfd::FlexibleCG::Converged converged = [&](const Local& r, std::size_t step)
        { return control.check(step, std::sqrt(dot(r, r))) == ::dealii::SolverControl::success; };

        AdditionalData settings = data;
        settings.maxIterations = control.max_steps();
        Local localB, localX;
        toLocal(b, localB);
        toLocal(x, localX);
        result = ::mlcfd::FlexibleCG(settings).solve(multiply, precondition, localB, localX, dot, converged);
        fromLocal(localX, x);

        const double finalNorm = result.relativeResidual * std::sqrt(dot(localB, localB));
        const auto state = control.check(result.iterations, finalNorm);
        if (!result.converged || state == ::dealii::SolverControl::failure)
        {
            AssertThrow(false, ::dealii::SolverControl::NoConvergence(result.iterations, finalNorm));
        }
    }

    /// What the last solve did (iterations, plainCG, fallbacks, history).
    const FlexibleCGResult& last_result() const { return result; }

private:
    static double reduce(double local, const ::dealii::Vector<double>&) { return local; }

    template<typename DistributedVector> static double reduce(double local, const DistributedVector& like)
    {
        return ::dealii::Utilities::MPI::sum(local, like.get_mpi_communicator());
    }

    ::dealii::SolverControl& control;
    AdditionalData data;
    FlexibleCGResult result;
};

} // namespace dealii
} // namespace mlcfd

#endif
