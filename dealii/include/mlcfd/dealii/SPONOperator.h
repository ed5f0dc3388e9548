// mlcfd: structure-preserving operator learning (SPON) in deal.II:
// FE encoder, network processor, constrained FE decoder.
#ifndef MLCFD_DEALII_SPON_OPERATOR_H
#define MLCFD_DEALII_SPON_OPERATOR_H

#include "mlcfd/Model.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/function.h>
#include <deal.II/base/index_set.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/partitioner.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/base/subscriptor.h>
#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>
#include <deal.II/fe/mapping_q1.h>
#include <deal.II/grid/cell_id.h>
#include <deal.II/grid/intergrid_map.h>
#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/la_parallel_vector.h>
#include <deal.II/lac/vector.h>
#include <deal.II/numerics/vector_tools.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <exception>
#include <map>
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
 * **Distributed meshes** (parallel::distributed::Triangulation):
 * initialize_distributed() takes the DoF handler the model was trained on
 * (serial, the same mesh; it fixes the order of the network's rows) and the
 * distributed one with its constraints (at least the locally owned lines). encode() then
 * interpolates on each process's own cells and gathers the row on every
 * process, process() evaluates the network on rank 0 and broadcasts it, and
 * decode() fills a LinearAlgebra::distributed::Vector (owned and ghost
 * entries) and applies the constraints of each process's own lines. The
 * result equals the serial operator's to round-off (tested on 2 ranks);
 * every call is collective. The projection encoder is serial only, and the
 * multigrid variant has no distributed form.
 *
 * @code
 *   mlcfd::dealii::SPONOperator<2> spon;
 *   spon.initialize_distributed(model, serial_dofs, dof_handler, constraints);
 *   LinearAlgebra::distributed::Vector<double> u;
 *   spon.predict({&a, &f, &g}, u);   // on every rank, collective
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
        distributed_ = false;
        reset_timings();
    }

    /**
     * The operator on a distributed mesh. @p model_dofs is the serial DoF
     * handler whose numbering the model was trained on (the same mesh,
     * refined alike from the same coarse grid, and the same element, on
     * every process); @p dofs is distributed, @p constraints (closed) holds
     * at least its locally owned lines. Each cell of @p dofs is the cell of
     * @p model_dofs with the same CellId, and their DoFs correspond in the
     * element's order: an exact match. Collective; a refusal (on any
     * process) is thrown on every process and leaves the operator as it was.
     */
    void initialize_distributed(std::shared_ptr<const mlcfd::Model> model,
        const ::dealii::DoFHandler<dim>& model_dofs, const ::dealii::DoFHandler<dim>& dofs,
        const ::dealii::AffineConstraints<double>& constraints, const AdditionalData& data = AdditionalData(),
        const ::dealii::Mapping<dim>& mapping = ::dealii::StaticMappingQ1<dim>::mapping)
    {
        const std::string where = "SPONOperator::initialize_distributed: ";
        AssertThrow(data.encoder == Encoder::interpolation,
            ::dealii::ExcMessage(
                where + "the projection encoder is serial only; use Encoder::interpolation"));
        AssertThrow(model_dofs.n_dofs() == dofs.n_dofs() && model_dofs.get_fe() == dofs.get_fe(),
            ::dealii::ExcMessage(where + "the model's DoF handler has " + std::to_string(model_dofs.n_dofs())
                                 + " DoFs, the distributed one " + std::to_string(dofs.n_dofs())
                                 + ": they must be the same mesh and element"));
        const MPI_Comm comm = dofs.get_communicator();
        const ::dealii::IndexSet owned = dofs.locally_owned_dofs();
        const ::dealii::IndexSet relevant = ::dealii::DoFTools::extract_locally_relevant_dofs(dofs);

        std::map<::dealii::CellId, typename ::dealii::DoFHandler<dim>::active_cell_iterator> model_cells;
        for (const auto& cell : model_dofs.active_cell_iterators()) model_cells.emplace(cell->id(), cell);
        constexpr std::size_t unset = static_cast<std::size_t>(-1);
        std::vector<std::size_t> relevant_model_index(relevant.n_elements(), unset);
        const unsigned int per_cell = dofs.get_fe().n_dofs_per_cell();
        std::vector<::dealii::types::global_dof_index> mine(per_cell), theirs(per_cell);
        bool matched = true;
        for (const auto& cell : dofs.active_cell_iterators())
        {
            if (cell->is_artificial()) continue;
            const auto found = model_cells.find(cell->id());
            if (found == model_cells.end())
            {
                matched = false;
                break;
            }
            cell->get_dof_indices(mine);
            found->second->get_dof_indices(theirs);
            for (unsigned int j = 0; j < per_cell; ++j)
            {
                std::size_t& m = relevant_model_index[relevant.index_within_set(mine[j])];
                matched = matched && (m == unset || m == theirs[j]);
                m = theirs[j];
            }
        }
        matched = matched
                  && std::find(relevant_model_index.begin(), relevant_model_index.end(), unset)
                         == relevant_model_index.end();
        // Agreed before anyone throws: a lone throw would leave the other
        // processes waiting in the next collective call.
        AssertThrow(::dealii::Utilities::MPI::min(static_cast<int>(matched), comm) == 1,
            ::dealii::ExcMessage(where
                                 + "a cell of the distributed mesh is no cell of the model's mesh:"
                                   " they must be the same mesh, refined alike from one coarse grid"));

        // Where each process's owned values land in a gathered row.
        std::vector<unsigned long long> owned_model_index;
        for (std::size_t k = 0; k < relevant.n_elements(); ++k)
            if (owned.is_element(relevant.nth_index_in_set(k)))
                owned_model_index.push_back(relevant_model_index[k]);
        const int processes = ::dealii::Utilities::MPI::n_mpi_processes(comm);
        const int count = static_cast<int>(owned_model_index.size());
        std::vector<int> counts(processes, 0), offsets(processes, 0);
        MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
        for (int p = 1; p < processes; ++p) offsets[p] = offsets[p - 1] + counts[p - 1];
        std::vector<unsigned long long> all(dofs.n_dofs());
        MPI_Allgatherv(owned_model_index.data(), count, MPI_UNSIGNED_LONG_LONG, all.data(), counts.data(),
            offsets.data(), MPI_UNSIGNED_LONG_LONG, comm);

        // Only now the operator changes.
        initialize(std::move(model), model_dofs, model_dofs, constraints, data, mapping);
        distributed_dofs_ = &dofs;
        comm_ = comm;
        owned_ = owned;
        relevant_ = relevant;
        relevant_model_index_ = std::move(relevant_model_index);
        gathered_model_index_.assign(all.begin(), all.end());
        counts_ = std::move(counts);
        offsets_ = std::move(offsets);
        // One layout (owned and ghost DoFs) for every vector of every call.
        partitioner_ = std::make_shared<const ::dealii::Utilities::MPI::Partitioner>(owned, relevant, comm);
        distributed_ = true;
    }

    /// true after initialize_distributed().
    bool distributed() const { return distributed_; }

    /// The model's (serial) index of the locally relevant DoF @p i of the
    /// distributed mesh: where it sits in the network's rows.
    std::size_t model_index(const ::dealii::types::global_dof_index i) const
    {
        AssertThrow(distributed_ && relevant_.is_element(i),
            ::dealii::ExcMessage("SPONOperator::model_index: DoF " + std::to_string(i)
                                 + " is not locally relevant on a distributed mesh of this operator"));
        return relevant_model_index_[relevant_.index_within_set(i)];
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
            if (distributed_)
            {
                encode_distributed(*inputs[k], row + k * n);
                continue;
            }
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
        if (!distributed_)
        {
            model_->evaluate(input_rows, rows, input_width(), output_rows, output_width());
        }
        else
        {
            // One network evaluation on rank 0, its output on every process;
            // a failure there is thrown on every process.
            int failed = 0;
            std::string message;
            if (::dealii::Utilities::MPI::this_mpi_process(comm_) == 0)
            {
                try
                {
                    model_->evaluate(input_rows, rows, input_width(), output_rows, output_width());
                }
                catch (const std::exception& e)
                {
                    failed = 1;
                    message = std::string(": ") + e.what();
                }
            }
            MPI_Bcast(&failed, 1, MPI_INT, 0, comm_);
            AssertThrow(
                !failed, ::dealii::ExcMessage("SPONOperator: the network failed on rank 0" + message));
            MPI_Bcast(output_rows, static_cast<int>(rows * output_width()), MPI_DOUBLE, 0, comm_);
        }
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
        AssertThrow(!distributed_,
            ::dealii::ExcMessage("SPONOperator: initialized on a distributed mesh, decode into a"
                                 " LinearAlgebra::distributed::Vector"));
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

    /// The decoder on a distributed mesh: @p solution gets the locally
    /// owned and ghost entries of the DoFs of this process, with the
    /// constraints applied to its owned lines if apply_constraints().
    /// Collective.
    void decode(
        const double* output_row, ::dealii::LinearAlgebra::distributed::Vector<double>& solution) const
    {
        AssertThrow(distributed_,
            ::dealii::ExcMessage("SPONOperator: a distributed vector needs initialize_distributed()"));
        solution.reinit(partitioner_);
        for (const auto i : owned_) solution(i) = output_row[model_index(i)];
        if (data_.apply_constraints)
        {
            const auto start = clock::now();
            output_constraints_->distribute(solution);
            timings_.constraints += seconds_since(start);
        }
        solution.update_ghost_values();
        ++timings_.samples;
    }

    /// Encode, process and decode one sample on a distributed mesh.
    /// Collective.
    void predict(const std::vector<const ::dealii::Function<dim>*>& inputs,
        ::dealii::LinearAlgebra::distributed::Vector<double>& solution) const
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

    /// The same on a distributed mesh: the lines owned by each process
    /// (@p u needs its ghost entries), maximised over the processes.
    /// Collective.
    static double constraint_violation(const ::dealii::AffineConstraints<double>& constraints,
        const ::dealii::LinearAlgebra::distributed::Vector<double>& u)
    {
        const ::dealii::IndexSet owned = u.locally_owned_elements();
        double violation = 0;
        for (const auto& line : constraints.get_lines())
        {
            if (!owned.is_element(line.index)) continue;
            double r = u(line.index) - line.inhomogeneity;
            for (const auto& entry : line.entries) r -= entry.second * u(entry.first);
            violation = std::max(violation, std::abs(r));
        }
        return ::dealii::Utilities::MPI::max(violation, u.get_mpi_communicator());
    }

private:
    using clock = std::chrono::steady_clock;

    // One input interpolated on this process's cells, gathered into the
    // model's order on every process.
    void encode_distributed(const ::dealii::Function<dim>& input, double* row) const
    {
        ::dealii::LinearAlgebra::distributed::Vector<double> local(partitioner_);
        ::dealii::VectorTools::interpolate(*mapping_, *distributed_dofs_, input, local);
        std::vector<double> mine(owned_.n_elements()), all(distributed_dofs_->n_dofs());
        for (std::size_t j = 0; j < mine.size(); ++j) mine[j] = local.local_element(j);
        MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE, all.data(), counts_.data(),
            offsets_.data(), MPI_DOUBLE, comm_);
        for (std::size_t m = 0; m < all.size(); ++m) row[gathered_model_index_[m]] = all[m];
    }
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

    // The distributed mesh (initialize_distributed()).
    bool distributed_ = false;
    const ::dealii::DoFHandler<dim>* distributed_dofs_ = nullptr;
    MPI_Comm comm_ = MPI_COMM_SELF;
    ::dealii::IndexSet owned_, relevant_;
    std::vector<std::size_t> relevant_model_index_; // per locally relevant DoF, in its order
    std::vector<std::size_t> gathered_model_index_; // per entry of a gathered row of owned values
    std::vector<int> counts_, offsets_;             // of each process's owned values
    std::shared_ptr<const ::dealii::Utilities::MPI::Partitioner> partitioner_;
};

} // namespace dealii
} // namespace mlcfd

#endif
