// mlcfd: a learned model as a deal.II preconditioner (operator with vmult).
#ifndef MLCFD_DEALII_MODEL_PRECONDITIONER_H
#define MLCFD_DEALII_MODEL_PRECONDITIONER_H

#include "mlcfd/Model.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/subscriptor.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/trilinos_vector.h>
#include <deal.II/lac/vector.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mlcfd
{
namespace dealii
{

namespace internal
{
    /// Contiguous access to the locally owned entries of a vector.
    template <typename VectorType>
    struct LocalValues;

    template <>
    struct LocalValues<::dealii::Vector<double>>
    {
        using VectorType = ::dealii::Vector<double>;
        static std::size_t size(const VectorType& v) { return v.size(); }
        static const double* read(const VectorType& v) { return v.begin(); }
        static void release(const VectorType&, const double*) {}
        static double* write(VectorType& v) { return v.begin(); }
        static void release(VectorType&, double*) {}
    };

    template <>
    struct LocalValues<::dealii::TrilinosWrappers::MPI::Vector>
    {
        using VectorType = ::dealii::TrilinosWrappers::MPI::Vector;
        static std::size_t size(const VectorType& v) { return v.locally_owned_size(); }
        static const double* read(const VectorType& v) { return v.begin(); }
        static void release(const VectorType&, const double*) {}
        static double* write(VectorType& v) { return v.begin(); }
        static void release(VectorType&, double*) {}
    };

    template <>
    struct LocalValues<::dealii::PETScWrappers::MPI::Vector>
    {
        using VectorType = ::dealii::PETScWrappers::MPI::Vector;
        static std::size_t size(const VectorType& v) { return v.locally_owned_size(); }
        static const double* read(const VectorType& v)
        {
            const PetscScalar* values = nullptr;
            const PetscErrorCode ierr = VecGetArrayRead(v, &values);
            AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
            return values;
        }
        static void release(const VectorType& v, const double* values)
        {
            const PetscErrorCode ierr = VecRestoreArrayRead(v, &values);
            AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
        }
        static double* write(VectorType& v)
        {
            PetscScalar* values = nullptr;
            const PetscErrorCode ierr = VecGetArray(v, &values);
            AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
            return values;
        }
        static void release(VectorType& v, double* values)
        {
            const PetscErrorCode ierr = VecRestoreArray(v, &values);
            AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
        }
    };

    /// First and one-past-last locally owned row.
    inline std::pair<std::size_t, std::size_t>
    owned_rows(const ::dealii::SparseMatrix<double>& matrix)
    {
        return {0, matrix.m()};
    }

    template <typename MatrixType>
    auto owned_rows(const MatrixType& matrix) -> decltype(matrix.local_range())
    {
        return matrix.local_range();
    }
} // namespace internal


/**
 * A learned preconditioner: the action z = P r of a TorchScript model
 * (mlcfd::Model of kind "preconditioner") applied to every locally owned
 * degree of freedom in one batch.
 *
 * For each locally owned row i the model receives the row
 * (r_i, f_1(i), ..., f_m(i)), where r is the vector vmult() is applied to and
 * the f_k are per-row features of the system matrix named by the model's
 * metadata inputs after the first:
 *   - `diag`: the diagonal entry A_ii.
 * The model returns one value per row, z_i. With the reference model of
 * `mlcfd-model create jacobi` (z_i = r_i/A_ii) this is Jacobi's method.
 *
 * A model can be nonlinear and non-symmetric, so use it with a flexible
 * method (SolverFlexibleCG, SolverFGMRES), not with SolverCG.
 *
 * Works with Vector<double> (with SparseMatrix<double>),
 * PETScWrappers::MPI::Vector (with PETScWrappers::MPI::SparseMatrix) and
 * TrilinosWrappers::MPI::Vector (with TrilinosWrappers::SparseMatrix); in
 * parallel each process evaluates its own rows.
 *
 * @code
 *   mlcfd::dealii::ModelPreconditioner preconditioner;
 *   preconditioner.initialize(system_matrix, "jacobi.pt");
 *   SolverFlexibleCG<Vector<double>> solver(control);
 *   solver.solve(system_matrix, solution, system_rhs, preconditioner);
 * @endcode
 */
class ModelPreconditioner : public ::dealii::Subscriptor
{
public:
    /// Settings of the model evaluation.
    struct AdditionalData
    {
        /// "cpu" or "cuda" (falls back to the CPU with a warning).
        std::string device = "cpu";
        /// LibTorch intra-op threads (0: automatic, 1 per MPI rank).
        int threads = 0;
    };

    /// The metadata kind a model must declare.
    static constexpr const char* kind = "preconditioner";

    /// Load @p model_file and prepare the features of @p matrix.
    template <typename MatrixType>
    void initialize
    (
        const MatrixType& matrix,
        const std::string& model_file,
        const AdditionalData& data = AdditionalData()
    )
    {
        ModelOptions options;
        options.device = data.device;
        options.threads = data.threads;
        initialize(matrix, std::make_shared<const Model>(model_file, options));
    }

    /// Use an already loaded model (shared between preconditioners).
    template <typename MatrixType>
    void initialize(const MatrixType& matrix, std::shared_ptr<const Model> model)
    {
        check_model(*model);
        const auto rows = internal::owned_rows(matrix);
        const std::size_t width = model->inputCount();
        n_local = rows.second - rows.first;
        rows_buffer.assign(n_local*width, 0.0);
        output.assign(n_local, 0.0);
        for (std::size_t k = 1; k < width; ++k)
        {
            // Only 'diag' passes check_model().
            for (std::size_t i = 0; i < n_local; ++i)
            {
                rows_buffer[i*width + k] = matrix.diag_element(rows.first + i);
            }
        }
        this->model = std::move(model);
    }

    /// dst = P src on the locally owned entries.
    template <typename VectorType>
    void vmult(VectorType& dst, const VectorType& src) const
    {
        using Access = internal::LocalValues<VectorType>;
        AssertThrow(model, ::dealii::ExcMessage("ModelPreconditioner used before initialize()"));
        AssertThrow(Access::size(src) == n_local,
                    ::dealii::ExcDimensionMismatch(Access::size(src), n_local));
        AssertThrow(Access::size(dst) == n_local,
                    ::dealii::ExcDimensionMismatch(Access::size(dst), n_local));

        const std::size_t width = model->inputCount();
        const double* in = Access::read(src);
        for (std::size_t i = 0; i < n_local; ++i)
        {
            rows_buffer[i*width] = in[i];
        }
        Access::release(src, in);

        model->evaluate(rows_buffer.data(), n_local, width, output.data(), 1);

        double* out = Access::write(dst);
        std::copy(output.begin(), output.end(), out);
        Access::release(dst, out);
    }

    /// The loaded model (nullptr before initialize()).
    const Model* get_model() const { return model.get(); }

    /// Per-row features other than the vector entry that this class can
    /// provide, by metadata input name.
    static const std::vector<std::string>& supported_features()
    {
        static const std::vector<std::string> names{"diag"};
        return names;
    }

private:
    /// Throws ModelError (naming the file) unless @p model has kind
    /// "preconditioner", one output and only supported features.
    static void check_model(const Model& model)
    {
        const ModelMetadata& meta = model.metadata();
        if (meta.kind != kind)
        {
            throw ModelError(model.path(), "metadata entry 'kind' is '" + meta.kind
                + "' but a preconditioner needs '" + kind + "'");
        }
        if (meta.outputCount() != 1)
        {
            throw ModelError(model.path(), "metadata entry 'outputs' must name exactly"
                " one output (z) for a preconditioner");
        }
        for (std::size_t k = 1; k < meta.inputCount(); ++k)
        {
            bool known = false;
            for (const auto& name : supported_features()) known = known || meta.inputs[k] == name;
            if (!known)
            {
                throw ModelError(model.path(), "metadata entry 'inputs' names feature '"
                    + meta.inputs[k] + "', which ModelPreconditioner cannot provide"
                    " (the first input is the vector entry; the others may be: diag)");
            }
        }
    }

    std::shared_ptr<const Model> model;
    std::size_t n_local = 0;
    /// Row-major model input; columns after the first are fixed features.
    mutable std::vector<double> rows_buffer;
    mutable std::vector<double> output;
};

} // namespace dealii
} // namespace mlcfd

#endif
