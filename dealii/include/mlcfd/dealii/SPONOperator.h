// mlcfd: structure-preserving operator learning (SPON) in deal.II:
// FE encoder, network processor, constrained FE decoder.
#ifndef MLCFD_DEALII_SPON_OPERATOR_H
#define MLCFD_DEALII_SPON_OPERATOR_H

#include "mlcfd/Model.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/function.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/base/subscriptor.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/grid/intergrid_map.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/vector.h>
#include <deal.II/numerics/vector_tools.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace mlcfd
{
namespace dealii
{

/**
 * A structure-preserving neural operator (SPON: encode, process, decode,
 * with finite element spaces as encoder and decoder) mapping input
 * functions, e.g. a coefficient a(x) and a source f(x) of
 * -div(a grad u) = f, to an FE function u_h whose Dirichlet values and
 * hanging-node constraints hold exactly, whatever the network predicts.
 *
 * - **Encoder**: each of the n_inputs() input functions is interpolated
 *   (VectorTools::interpolate, the default) or L2-projected
 *   (VectorTools::project, with the hanging-node constraints of the space)
 *   onto the *processor space* (a DoFHandler on any triangulation: an
 *   L-shape, a plate with a hole, an adaptively refined mesh). The DoF
 *   vectors are concatenated into one row: (input 0 DoFs, input 1 DoFs, ...).
 * - **Processor**: an mlcfd::Model (TorchScript) evaluated on a batch of
 *   such rows, one row per sample, returning one row of processor-space DoF
 *   values per sample. Its input width must be n_inputs() times the number
 *   of processor DoFs and its output width the number of processor DoFs;
 *   the DoF graph (e.g. the sparsity pattern of the FE matrix) can be baked
 *   into the network by the trainer (tutorials/dealii/spon/train_spon.py).
 * - **Decoder**: the processor output becomes an FE function in the
 *   *output space*. If the output space is the processor space, the values
 *   are taken as they are; otherwise (the **multigrid variant**: processor
 *   on a coarser mesh with the same coarse grid, e.g. one global refinement
 *   less) they are prolonged to the output space by deal.II's grid transfer
 *   (VectorTools::interpolate_to_different_mesh through an InterGridMap).
 *   Then the constraint step: AffineConstraints::distribute() overwrites the
 *   constrained DoFs, so u_i = sum_j w_ij u_j + g_i holds on every
 *   constrained line (Dirichlet values g_i from
 *   VectorTools::interpolate_boundary_values, hanging-node weights from
 *   DoFTools::make_hanging_node_constraints) to round-off, and the free DoFs
 *   keep what the network said. For Dirichlet lines this is the Dirichlet
 *   lift of mlcfd::DirichletLift; deal.II's own AffineConstraints is used
 *   instead of the core's class because it also carries the hanging-node
 *   weights and knows the constrained lines of every MPI rank.
 *   AdditionalData::apply_constraints = false skips the step (the
 *   unconstrained network, for comparisons).
 *
 * The operator holds references to the DoF handlers and constraints it is
 * initialised with: they must outlive it and not change (a refined mesh
 * needs a new model anyway, since the network's width is the DoF count).
 *
 * @code
 *   // single level: processor space = output space
 *   mlcfd::dealii::SPONOperator<2> spon;
 *   spon.initialize(std::make_shared<mlcfd::Model>("spon.pt"),
 *                   dof_handler, dof_handler, constraints);  // Dirichlet + hanging nodes
 *   Vector<double> u;
 *   spon.predict({&a, &f, &g}, u);          // u satisfies `constraints` exactly
 *
 *   // multigrid: the network acts on coarse_dofs (one refinement less)
 *   spon.initialize(model, coarse_dofs, dof_handler, constraints);
 *
 *   // batched: rows of encoded inputs, one evaluate() for all samples
 *   std::vector<double> in(samples*spon.input_width()), out(samples*spon.output_width());
 *   for (s...) spon.encode(inputs[s], &in[s*spon.input_width()]);
 *   spon.process(in.data(), samples, out.data());
 *   for (s...) spon.decode(&out[s*spon.output_width()], u[s]);
 * @endcode
 *
 * timings() accumulates the wall time of each stage (encode, inference,
 * transfer, constraints) since the last reset_timings().
 *
 * See also: tutorials/dealii/spon (data generation with deal.II, training,
 * prediction and VTU output), bench/spon (constrained vs unconstrained,
 * single level vs multigrid), mlcfd::DirichletLift and
 * mlcfd::LinearConstraint (the core's structure-preserving layers).
 */
template<int dim> class SPONOperator : public ::dealii::Subscriptor
{
public:
    /// How input functions become DoF vectors of the processor space.
    enum class Encoder
    {
        /// Nodal interpolation (VectorTools::interpolate).
        interpolation,
        /// L2 projection (VectorTools::project), hanging nodes respected.
        projection
    };

    struct AdditionalData
    {
        Encoder encoder = Encoder::interpolation;
        /// true: distribute() the output constraints (the SPON decoder);
        /// false: the raw (transferred) network output.
        bool apply_constraints = true;
    };

    /// Accumulated wall time [s] per stage and number of decoded samples.
    struct Timings
    {
        double encode = 0, inference = 0, transfer = 0, constraints = 0;
        std::size_t samples = 0;
    };

    SPONOperator() = default;

    /**
     * @p model maps rows of n_inputs * processor_dofs.n_dofs() values to rows
     * of processor_dofs.n_dofs() values; n_inputs is derived from the
     * widths (a width that is no multiple throws). @p output_dofs and
     * @p output_constraints (closed) define the decoder; when @p output_dofs
     * is not @p processor_dofs both triangulations must share their coarse
     * grid (the multigrid variant).
     */
    void initialize(std::shared_ptr<const mlcfd::Model> model,
        const ::dealii::DoFHandler<dim>& processor_dofs, const ::dealii::DoFHandler<dim>& output_dofs,
        const ::dealii::AffineConstraints<double>& output_constraints,
        const AdditionalData& data = AdditionalData(),
        const ::dealii::Mapping<dim>& mapping = ::dealii::StaticMappingQ1<dim>::mapping)
    {
        AssertThrow(model, ::dealii::ExcMessage("SPONOperator: no model"));
        AssertThrow(output_constraints.is_closed(),
            ::dealii::ExcMessage("SPONOperator: the output constraints must be closed"));
        const std::size_t n = processor_dofs.n_dofs();
        AssertThrow(n > 0, ::dealii::ExcMessage("SPONOperator: processor space has no DoFs"));
        AssertThrow(model->outputCount() == n,
            ::dealii::ExcMessage("SPONOperator: model '" + model->path() + "' returns "
                                 + std::to_string(model->outputCount())
                                 + " values per row, but the processor"
                                   " space has "
                                 + std::to_string(n) + " DoFs"));
        AssertThrow(model->inputCount() % n == 0 && model->inputCount() > 0,
            ::dealii::ExcMessage(
                "SPONOperator: model '" + model->path() + "' reads " + std::to_string(model->inputCount())
                + " values per row, not a multiple of the " + std::to_string(n) + " processor DoFs"));

        model_ = std::move(model);
        processor_dofs_ = &processor_dofs;
        output_dofs_ = &output_dofs;
        output_constraints_ = &output_constraints;
        mapping_ = &mapping;
        data_ = data;
        n_inputs_ = model_->inputCount() / n;

        processor_hanging_nodes_.clear();
        ::dealii::DoFTools::make_hanging_node_constraints(processor_dofs, processor_hanging_nodes_);
        processor_hanging_nodes_.close();

        multilevel_ = (&processor_dofs != &output_dofs);
        intergrid_map_ = std::make_unique<::dealii::InterGridMap<::dealii::DoFHandler<dim>>>();
        if (multilevel_)
        {
            // Throws if the triangulations do not share their coarse grid.
            intergrid_map_->make_mapping(processor_dofs, output_dofs);
        }
        no_constraints_.clear();
        no_constraints_.close();
        reset_timings();
    }

    /// Number of input functions per sample.
    unsigned int n_inputs() const { return n_inputs_; }
    /// Values per encoded row (n_inputs() * processor DoFs).
    std::size_t input_width() const { return model_->inputCount(); }
    /// Values per processor output row (processor DoFs).
    std::size_t output_width() const { return model_->outputCount(); }
    /// true when the processor acts on another (coarser) mesh.
    bool multilevel() const { return multilevel_; }

    /// Replace the output constraints (same output space, closed), e.g.
    /// for the next sample's Dirichlet data; the object must outlive use.
    void set_output_constraints(const ::dealii::AffineConstraints<double>& constraints)
    {
        AssertThrow(constraints.is_closed(),
            ::dealii::ExcMessage("SPONOperator: the output constraints must be closed"));
        output_constraints_ = &constraints;
    }

    void set_apply_constraints(const bool apply) { data_.apply_constraints = apply; }
    bool apply_constraints() const { return data_.apply_constraints; }

    const mlcfd::Model& model() const { return *model_; }
    const Timings& timings() const { return timings_; }
    void reset_timings() { timings_ = Timings(); }

    /// Encode one sample: the n_inputs() functions into @p row
    /// (input_width() values).
    void encode(const std::vector<const ::dealii::Function<dim>*>& inputs, double* row) const
    {
        AssertThrow(inputs.size() == n_inputs_,
            ::dealii::ExcMessage("SPONOperator: model '" + model_->path() + "' expects "
                                 + std::to_string(n_inputs_) + " input functions, got "
                                 + std::to_string(inputs.size())));
        const auto start = clock::now();
        const std::size_t n = processor_dofs_->n_dofs();
        ::dealii::Vector<double> encoded(n);
        for (std::size_t k = 0; k < inputs.size(); ++k)
        {
            AssertThrow(inputs[k] != nullptr && inputs[k]->n_components == 1,
                ::dealii::ExcMessage(
                    "SPONOperator: input function " + std::to_string(k) + " must be a scalar function"));
            if (data_.encoder == Encoder::interpolation)
            {
                ::dealii::VectorTools::interpolate(*mapping_, *processor_dofs_, *inputs[k], encoded);
            }
            else
            {
                const unsigned int degree = processor_dofs_->get_fe().degree;
                ::dealii::VectorTools::project(*mapping_, *processor_dofs_, processor_hanging_nodes_,
                    ::dealii::QGauss<dim>(degree + 2), *inputs[k], encoded);
            }
            std::copy(encoded.begin(), encoded.end(), row + k * n);
        }
        timings_.encode += seconds_since(start);
    }

    /// The processor: @p rows encoded rows (row-major) into @p rows output
    /// rows of output_width() values, in one batch.
    void process(const double* input_rows, const std::size_t rows, double* output_rows) const
    {
        const auto start = clock::now();
        model_->evaluate(input_rows, rows, input_width(), output_rows, output_width());
        timings_.inference += seconds_since(start);
    }

    /// The decoder: one processor output row (output_width() values) into
    /// an FE function of the output space (resized), prolonged if
    /// multilevel() and constrained if apply_constraints().
    void decode(const double* output_row, ::dealii::Vector<double>& solution) const
    {
        decode(output_row, *output_constraints_, solution);
    }

    /// decode() with other closed @p constraints on the output space than
    /// those of initialize(), e.g. the Dirichlet data of this sample when
    /// each sample has its own g.
    void decode(const double* output_row, const ::dealii::AffineConstraints<double>& constraints,
        ::dealii::Vector<double>& solution) const
    {
        const std::size_t n = processor_dofs_->n_dofs();
        solution.reinit(output_dofs_->n_dofs());
        if (multilevel_)
        {
            const auto start = clock::now();
            ::dealii::Vector<double> coarse(n);
            std::copy(output_row, output_row + n, coarse.begin());
            // No constraints here: the transfer alone, the constraint step
            // below is the only place where values are overwritten.
            ::dealii::VectorTools::interpolate_to_different_mesh(
                *intergrid_map_, coarse, no_constraints_, solution);
            timings_.transfer += seconds_since(start);
        }
        else
        {
            std::copy(output_row, output_row + n, solution.begin());
        }
        if (data_.apply_constraints)
        {
            const auto start = clock::now();
            constraints.distribute(solution);
            timings_.constraints += seconds_since(start);
        }
        ++timings_.samples;
    }

    /// Encode, process and decode one sample.
    void predict(
        const std::vector<const ::dealii::Function<dim>*>& inputs, ::dealii::Vector<double>& solution) const
    {
        std::vector<double> in(input_width()), out(output_width());
        encode(inputs, in.data());
        process(in.data(), 1, out.data());
        decode(out.data(), solution);
    }

    /// Encode, process (one batch) and decode many samples.
    void predict(const std::vector<std::vector<const ::dealii::Function<dim>*>>& samples,
        std::vector<::dealii::Vector<double>>& solutions) const
    {
        const std::size_t rows = samples.size();
        std::vector<double> in(rows * input_width()), out(rows * output_width());
        for (std::size_t s = 0; s < rows; ++s)
        {
            encode(samples[s], in.data() + s * input_width());
        }
        process(in.data(), rows, out.data());
        solutions.resize(rows);
        for (std::size_t s = 0; s < rows; ++s)
        {
            decode(out.data() + s * output_width(), solutions[s]);
        }
    }

    /// max over the constrained lines i of |u_i - sum_j w_ij u_j - g_i|:
    /// the constraint residual of @p u (0 up to round-off after decode()
    /// with apply_constraints()).
    static double constraint_violation(
        const ::dealii::AffineConstraints<double>& constraints, const ::dealii::Vector<double>& u)
    {
        double violation = 0;
        for (const auto& line : constraints.get_lines())
        {
            double r = u[line.index] - line.inhomogeneity;
            for (const auto& entry : line.entries)
            {
                r -= entry.second * u[entry.first];
            }
            violation = std::max(violation, std::abs(r));
        }
        return violation;
    }

private:
    using clock = std::chrono::steady_clock;
    static double seconds_since(const clock::time_point start)
    {
        return std::chrono::duration<double>(clock::now() - start).count();
    }

    std::shared_ptr<const mlcfd::Model> model_;
    const ::dealii::DoFHandler<dim>* processor_dofs_ = nullptr;
    const ::dealii::DoFHandler<dim>* output_dofs_ = nullptr;
    const ::dealii::AffineConstraints<double>* output_constraints_ = nullptr;
    const ::dealii::Mapping<dim>* mapping_ = nullptr;
    AdditionalData data_;
    unsigned int n_inputs_ = 0;
    bool multilevel_ = false;
    ::dealii::AffineConstraints<double> processor_hanging_nodes_;
    ::dealii::AffineConstraints<double> no_constraints_;
    std::unique_ptr<::dealii::InterGridMap<::dealii::DoFHandler<dim>>> intergrid_map_;
    mutable Timings timings_;
};

} // namespace dealii
} // namespace mlcfd

#endif
